// Mail templates are data (notify.templates); this renders one. {{name}} is replaced by the variable's
// value, HTML-escaped in HTML bodies (user-supplied text such as a package name or a reason an admin
// typed must not become markup). A placeholder without a value is an error, never an empty string: a
// mail with a hole in it is worse than a mail that waits in the outbox, visibly dead, for a fix.

export class MissingTemplateVariableError extends Error {
  override name = "MissingTemplateVariableError";
  constructor(readonly variable: string) {
    super(`template variable ${variable} has no value`);
  }
}

export type MailTemplate = { subject: string; text: string; html: string };
export type RenderedMail = MailTemplate;
export type Variables = Record<string, unknown>;

const PLACEHOLDER = /\{\{\s*([A-Za-z][A-Za-z0-9_]*)\s*\}\}/g;

export function escapeHtml(value: string): string {
  return value.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;").replaceAll("'", "&#39;");
}

function fill(template: string, variables: Variables, escape: (s: string) => string): string {
  return template.replace(PLACEHOLDER, (_, name: string) => {
    const value = Object.hasOwn(variables, name) ? variables[name] : undefined;
    if (value === undefined || value === null) throw new MissingTemplateVariableError(name);
    return escape(String(value));
  });
}

/** Subject and text are plain text (no escaping; line breaks in a subject become spaces). */
export function renderMail(template: MailTemplate, variables: Variables): RenderedMail {
  return {
    subject: fill(template.subject, variables, (s) => s).replace(/[\r\n]+/g, " ").trim(),
    text: fill(template.text, variables, (s) => s),
    html: fill(template.html, variables, escapeHtml),
  };
}

/** Every placeholder a template names (the template test checks sample variables cover them). */
export function placeholders(template: MailTemplate): string[] {
  const names = new Set<string>();
  for (const part of [template.subject, template.text, template.html]) {
    for (const match of part.matchAll(PLACEHOLDER)) names.add(match[1]!);
  }
  return [...names];
}
