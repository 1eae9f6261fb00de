begin;
select plan(4);

create temp table t as select test_support.admin() as a, test_support.kyc_user() as u;
select private.change_role((select u from t), (select a from t), 'admin');
select private.change_role((select u from t), (select a from t), 'admin');
select private.change_role((select u from t), (select a from t), 'user');

select results_eq($$select data ->> 'fromRole', data ->> 'toRole', data ->> 'adminId', metadata ->> 'actorId'
                    from event_store.events where stream_id = 'user-' || (select u from t) and type = 'RoleChanged'
                    order by position$$,
  $$values ('user', 'admin', (select a from t)::text, (select a from t)::text),
           ('admin', 'user', (select a from t)::text, (select a from t)::text)$$,
  'each change is one RoleChanged naming the admin; a repeat records nothing');
select is((select role from private.credentials where user_id = (select u from t)), 'user', 'the role is the last one');

select private.promote_to_admin('kyc-' || (select u from t) || '@example.test');
select is((select data ->> 'adminId' from event_store.events where stream_id = 'user-' || (select u from t)
           and type = 'RoleChanged' order by position desc limit 1), null, 'an operator''s promotion records no admin');
select is((select metadata ->> 'operator' from event_store.events where stream_id = 'user-' || (select u from t)
           and type = 'RoleChanged' order by position desc limit 1), session_user::text, 'but the database user who ran it');

select * from finish();
rollback;
