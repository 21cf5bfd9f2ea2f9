// Text for the pages: Django's JavaScript catalog (/jsi18n/, a classic script each page template
// loads before its modules) translates the Swedish source strings used as msgids; the English
// lives in locale/en/LC_MESSAGES/djangojs.po. `manage.py makemessages -d djangojs` finds every
// gettext/ngettext call with a literal string, so call them with literals only.
//
// Without the catalog (Node, a test page that serves static/ alone) the Swedish source is shown.

/** The reader's translation of `msgid`. */
export function gettext(msgid) {
  return globalThis.django?.gettext ? globalThis.django.gettext(msgid) : msgid;
}

/** The reader's translation of `singular`/`plural` for `count`. */
export function ngettext(singular, plural, count) {
  if (globalThis.django?.ngettext) return globalThis.django.ngettext(singular, plural, count);
  return count === 1 ? singular : plural;
}

/** Fill %(name)s placeholders (Django's named `interpolate`). */
export function fmt(text, values) {
  return text.replace(/%\((\w+)\)s/g, (_, key) => String(values[key] ?? ""));
}
