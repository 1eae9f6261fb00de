-- The projections added above start from the events already recorded (users who signed up before
-- the referral tree and ledger existed get their rows), exactly as a rebuild would make them.
select projections.rebuild();
