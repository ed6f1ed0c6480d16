//! Translated messages, from the Fluent files of `locales/<tag>/*.ftl` embedded at build time.
//!
//! One `fluent_bundle::concurrent::FluentBundle` per locale (it is `Sync`, the plain one is
//! not), built once per process or isolate on first use. Plural variants use CLDR plural
//! rules (`intl_pluralrules`, through the bundle's locale).
//!
//! What must hold, checked by the tests below rather than at run time: every file parses,
//! every locale has the same message ids, attributes and variables, and every message formats
//! without errors. At run time nothing panics or logs: an entry that fails to parse is left
//! out, a message missing in a locale is taken from `fr`, and failing that the id is returned.
//!
//! Output keeps Fluent's Unicode isolation marks (U+2068 … U+2069) around placeables, so that
//! a Latin clinic name inside an Arabic sentence (or the reverse) is laid out correctly in
//! HTML. Use [`message_plain`] where marks would be visible noise (plain-text fields).
//! Messages contain no markup: the caller HTML-escapes the formatted string.

use std::sync::OnceLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use unic_langid::{CharacterDirection, LanguageIdentifier};

use super::locale::{Direction, Locale};
use crate::embedded::EMBEDDED_LOCALES;

/// An argument of a message (`{ $clinic }`, `{ $count }`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arg<'a> {
    /// Text, inserted as is (already localized: formatted numbers, money, dates…).
    Str(&'a str),
    /// An integer: selects the plural variant (CLDR rules of the locale) and is printed
    /// without grouping (`1234`).
    Num(i64),
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(s: &'a str) -> Self {
        Arg::Str(s)
    }
}

impl From<i64> for Arg<'_> {
    fn from(n: i64) -> Self {
        Arg::Num(n)
    }
}

/// One locale's bundle and the metadata read from it once.
struct LocaleData {
    bundle: FluentBundle<FluentResource>,
    direction: Direction,
    autonym: String,
}

static LOCALES: OnceLock<Vec<LocaleData>> = OnceLock::new();

/// All locales' data, in the embedded order (so a [`Locale`]'s index addresses it).
fn locales() -> &'static [LocaleData] {
    LOCALES.get_or_init(|| {
        EMBEDDED_LOCALES
            .iter()
            .map(|(tag, files)| build(tag, files))
            .collect()
    })
}

fn data(locale: Locale) -> &'static LocaleData {
    &locales()[locale.index()]
}

fn build(tag: &str, files: &[(&str, &str)]) -> LocaleData {
    let langid: LanguageIdentifier = tag.parse().unwrap_or_default();
    let mut bundle = FluentBundle::new_concurrent(vec![langid.clone()]);
    // Isolation marks are the default; kept on purpose (see the module documentation).
    bundle.set_use_isolating(true);
    for &(_, source) in files {
        // On a syntax error the resource still holds every entry that parsed.
        let resource =
            FluentResource::try_new(source.to_owned()).unwrap_or_else(|(partial, _)| partial);
        // A duplicate id keeps its first definition.
        let _ = bundle.add_resource(resource);
    }
    let own = |id| format_in(&bundle, id, &[]);
    let direction = match own("locale-direction").as_deref().map(str::trim) {
        Some(d) if d.eq_ignore_ascii_case("rtl") => Direction::Rtl,
        Some(d) if d.eq_ignore_ascii_case("ltr") => Direction::Ltr,
        _ if langid.character_direction() == CharacterDirection::RTL => Direction::Rtl,
        _ => Direction::Ltr,
    };
    let autonym = own("locale-name").unwrap_or_else(|| tag.to_owned());
    LocaleData {
        bundle,
        direction,
        autonym,
    }
}

/// Formats `id` (or `id.attribute`) in one bundle; `None` if the message or attribute is
/// missing or has no value. Formatting errors (an argument not given…) do not fail: Fluent's
/// best-effort output is returned, and the tests make sure they do not happen.
fn format_in(
    bundle: &FluentBundle<FluentResource>,
    id: &str,
    args: &[(&str, Arg<'_>)],
) -> Option<String> {
    let (message_id, attribute) = match id.split_once('.') {
        Some((m, a)) => (m, Some(a)),
        None => (id, None),
    };
    let message = bundle.get_message(message_id)?;
    let pattern = match attribute {
        Some(a) => message.get_attribute(a)?.value(),
        None => message.value()?,
    };
    let mut fluent_args = FluentArgs::with_capacity(args.len());
    for &(name, arg) in args {
        let value = match arg {
            Arg::Str(s) => FluentValue::from(s),
            Arg::Num(n) => FluentValue::from(n),
        };
        fluent_args.set(name, value);
    }
    let mut errors = Vec::new();
    let out = bundle.format_pattern(pattern, Some(&fluent_args), &mut errors);
    Some(out.into_owned())
}

/// The message `id` in `locale`, with `args`; `id` may name an attribute as `id.attribute`.
///
/// Missing in `locale` → the `fr` message; missing there too → `id` itself. Placeables are
/// wrapped in isolation marks (for HTML); the result is plain text to be HTML-escaped.
///
/// ```
/// use telemed_shared::i18n::{message, Arg, locale::Locale};
/// let en = Locale::from_tag("en").unwrap();
/// assert_eq!(message(en, "home-book", &[]), "Book an appointment");
/// assert_eq!(message(en, "patients-count", &[("count", Arg::Num(1))]), "\u{2068}1\u{2069} patient");
/// ```
pub fn message(locale: Locale, id: &str, args: &[(&str, Arg<'_>)]) -> String {
    format_in(&data(locale).bundle, id, args)
        .or_else(|| format_in(&data(Locale::fallback()).bundle, id, args))
        .unwrap_or_else(|| id.to_owned())
}

/// [`message`] without the isolation marks, for plain-text outputs where they would show up
/// or be counted (e-mail subjects, HTTP headers, logs).
pub fn message_plain(locale: Locale, id: &str, args: &[(&str, Arg<'_>)]) -> String {
    let mut out = message(locale, id, args);
    out.retain(|c| c != '\u{2068}' && c != '\u{2069}');
    out
}

/// For [`Locale::dir`].
pub(super) fn direction(locale: Locale) -> Direction {
    data(locale).direction
}

/// For [`Locale::autonym`].
pub(super) fn autonym(locale: Locale) -> &'static str {
    &data(locale).autonym
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use fluent_syntax::ast;

    use super::*;

    /// For each message id: its attribute names and the variables it references.
    type Shape = BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)>;

    fn locale(tag: &str) -> Locale {
        Locale::from_tag(tag).unwrap()
    }

    fn collect_vars(pattern: &ast::Pattern<&str>, vars: &mut BTreeSet<String>) {
        for element in &pattern.elements {
            if let ast::PatternElement::Placeable { expression } = element {
                collect_expression_vars(expression, vars);
            }
        }
    }

    fn collect_expression_vars(expression: &ast::Expression<&str>, vars: &mut BTreeSet<String>) {
        match expression {
            ast::Expression::Select { selector, variants } => {
                collect_inline_vars(selector, vars);
                for variant in variants {
                    collect_vars(&variant.value, vars);
                }
            }
            ast::Expression::Inline(inline) => collect_inline_vars(inline, vars),
        }
    }

    fn collect_inline_vars(inline: &ast::InlineExpression<&str>, vars: &mut BTreeSet<String>) {
        match inline {
            ast::InlineExpression::VariableReference { id } => {
                vars.insert(id.name.to_owned());
            }
            ast::InlineExpression::Placeable { expression } => {
                collect_expression_vars(expression, vars)
            }
            ast::InlineExpression::FunctionReference { arguments, .. }
            | ast::InlineExpression::TermReference {
                arguments: Some(arguments),
                ..
            } => {
                for arg in arguments
                    .positional
                    .iter()
                    .chain(arguments.named.iter().map(|n| &n.value))
                {
                    collect_inline_vars(arg, vars);
                }
            }
            _ => {}
        }
    }

    /// Parses every file of a locale strictly (any syntax error or duplicate fails).
    fn shape(tag: &str, files: &[(&str, &str)]) -> Shape {
        let mut shape = Shape::new();
        for (file, source) in files {
            let resource = FluentResource::try_new((*source).to_owned())
                .unwrap_or_else(|(_, errors)| panic!("locales/{tag}/{file}: {errors:?}"));
            for entry in resource.entries() {
                match entry {
                    ast::Entry::Message(m) => {
                        let attributes =
                            m.attributes.iter().map(|a| a.id.name.to_owned()).collect();
                        let mut vars = BTreeSet::new();
                        if let Some(value) = &m.value {
                            collect_vars(value, &mut vars);
                        }
                        for a in &m.attributes {
                            collect_vars(&a.value, &mut vars);
                        }
                        let previous = shape.insert(m.id.name.to_owned(), (attributes, vars));
                        assert!(
                            previous.is_none(),
                            "locales/{tag}: `{}` defined twice",
                            m.id.name
                        );
                    }
                    ast::Entry::Junk { content } => {
                        panic!("locales/{tag}/{file}: junk {content:?}")
                    }
                    _ => {}
                }
            }
        }
        shape
    }

    #[test]
    fn every_file_parses_and_every_locale_has_the_same_messages() {
        let reference = shape(
            "fr",
            EMBEDDED_LOCALES.iter().find(|(t, _)| *t == "fr").unwrap().1,
        );
        assert!(
            reference.len() >= 19,
            "fr has only {} messages",
            reference.len()
        );
        for (tag, files) in EMBEDDED_LOCALES {
            let other = shape(tag, files);
            let ids: BTreeSet<_> = other.keys().collect();
            let ref_ids: BTreeSet<_> = reference.keys().collect();
            assert_eq!(ids, ref_ids, "locales/{tag}: message ids differ from fr");
            for (id, (attributes, vars)) in &reference {
                assert_eq!(
                    &other[id].0, attributes,
                    "locales/{tag}: attributes of `{id}`"
                );
                assert_eq!(&other[id].1, vars, "locales/{tag}: variables of `{id}`");
            }
        }
    }

    #[test]
    fn bundles_accept_every_resource_without_errors() {
        for (tag, files) in EMBEDDED_LOCALES {
            let langid: LanguageIdentifier = tag.parse().expect("folder name is a BCP 47 tag");
            let mut bundle = FluentBundle::new_concurrent(vec![langid]);
            for (file, source) in *files {
                let resource = FluentResource::try_new((*source).to_owned()).expect("parses");
                bundle
                    .add_resource(resource)
                    .unwrap_or_else(|e| panic!("locales/{tag}/{file}: {e:?}"));
            }
        }
    }

    #[test]
    fn every_message_formats_without_errors() {
        for l in Locale::all() {
            let bundle = &data(l).bundle;
            let (_, files) = EMBEDDED_LOCALES[l.index()];
            for (_, source) in files {
                let resource = FluentResource::try_new((*source).to_owned()).expect("parses");
                for entry in resource.entries() {
                    let ast::Entry::Message(m) = entry else {
                        continue;
                    };
                    let message = bundle.get_message(m.id.name).expect("in bundle");
                    let patterns = message
                        .value()
                        .into_iter()
                        .chain(message.attributes().map(|a| a.value()))
                        .collect::<Vec<_>>();
                    // Every variable the message names: text for `$clinic`, else a number
                    // (which selectors need and text placeables print as well).
                    let mut vars = BTreeSet::new();
                    if let Some(value) = &m.value {
                        collect_vars(value, &mut vars);
                    }
                    for a in &m.attributes {
                        collect_vars(&a.value, &mut vars);
                    }
                    for count in [0, 1, 2, 3, 5, 11, 21, 100, 101, 1000, 1_000_000] {
                        let mut args = FluentArgs::new();
                        for var in &vars {
                            args.set(var.clone(), count);
                        }
                        args.set("clinic", "Clinique Saint-Éloi");
                        for &pattern in &patterns {
                            let mut errors = vec![];
                            let out = bundle.format_pattern(pattern, Some(&args), &mut errors);
                            assert!(errors.is_empty(), "{l:?} `{}`: {errors:?}", m.id.name);
                            assert!(!out.trim().is_empty(), "{l:?} `{}` is empty", m.id.name);
                            assert!(
                                !out.contains(['<', '>', '&', '{', '}']),
                                "{l:?} `{}`: {out:?}",
                                m.id.name
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn the_required_messages_exist() {
        let required = [
            "locale-name",
            "locale-direction",
            "home-title",
            "home-greeting",
            "home-intro",
            "home-book",
            "language-switcher-label",
            "patients-count",
            "not-found-title",
            "not-found-body",
            "clinic-suspended-title",
            "clinic-suspended-body",
            "bad-request-title",
            "bad-request-body",
            "error-title",
            "error-body",
            "unavailable-title",
            "unavailable-body",
            "footer-privacy",
        ];
        for l in Locale::all() {
            for id in required {
                assert!(data(l).bundle.has_message(id), "{l:?} lacks `{id}`");
            }
        }
    }

    #[test]
    fn direction_is_rtl_only_for_arabic() {
        for l in Locale::all() {
            let declared = message(l, "locale-direction", &[]);
            let expected = if l.tag() == "ar" { "rtl" } else { "ltr" };
            assert_eq!(declared, expected, "{l:?}");
            assert_eq!(l.dir().as_str(), expected, "{l:?}");
        }
    }

    #[test]
    fn clinic_name_is_isolated_and_present() {
        let clinic = [("clinic", Arg::Str("Clinique Saint-Éloi"))];
        for l in Locale::all() {
            for id in ["home-title", "home-greeting"] {
                let out = message(l, id, &clinic);
                assert!(
                    out.contains("\u{2068}Clinique Saint-Éloi\u{2069}"),
                    "{l:?} {id}: {out:?}"
                );
                let plain = message_plain(l, id, &clinic);
                assert!(
                    plain.contains("Clinique Saint-Éloi") && !plain.contains('\u{2068}'),
                    "{plain:?}"
                );
            }
        }
        assert_eq!(
            message(locale("fr"), "home-greeting", &clinic),
            "Bienvenue chez \u{2068}Clinique Saint-Éloi\u{2069}"
        );
        assert_eq!(
            message_plain(locale("en"), "home-greeting", &[("clinic", "Acme".into())]),
            "Welcome to Acme"
        );
    }

    #[test]
    fn arabic_plurals_use_all_six_cldr_categories() {
        let ar = locale("ar");
        let count = |n: i64| message_plain(ar, "patients-count", &[("count", Arg::Num(n))]);
        let cases = [
            (0, "لا يوجد مرضى"), // zero
            (1, "مريض واحد"),   // one
            (2, "مريضان"),      // two
            (3, "3 مرضى"),      // few (n % 100 = 3..10)
            (10, "10 مرضى"),    // few
            (11, "11 مريضًا"),   // many (n % 100 = 11..99)
            (99, "99 مريضًا"),   // many
            (100, "100 مريض"),  // other
            (102, "102 مريض"),  // other
        ];
        for (n, expected) in cases {
            assert_eq!(count(n), expected, "n = {n}");
        }
        // KNOWN UPSTREAM BUG, pinned so that an upgrade that fixes it fails here: the rules
        // generated in intl_pluralrules 7.0.2 (CLDR 37) test `i` where CLDR says `n % 100`
        // for Arabic few (3..10) and many (11..99), so 103–110 and 111–199 (and every later
        // hundred) fall into `other`. Correct would be "103 مرضى" and "111 مريضًا". When this
        // fails, move these two cases into the table above with the correct forms.
        assert_eq!(count(103), "103 مريض");
        assert_eq!(count(111), "111 مريض");
        let outputs: BTreeSet<_> = [0, 1, 2, 3, 11, 100].map(count).into_iter().collect();
        assert_eq!(outputs.len(), 6, "six distinct forms: {outputs:?}");
    }

    #[test]
    fn plurals_in_latin_locales() {
        let count = |tag: &str, n: i64| {
            message_plain(locale(tag), "patients-count", &[("count", Arg::Num(n))])
        };
        assert_eq!(count("fr", 0), "0 patient");
        assert_eq!(count("fr", 1), "1 patient");
        assert_eq!(count("fr", 2), "2 patients");
        assert_eq!(count("en", 0), "0 patients");
        assert_eq!(count("en", 1), "1 patient");
        assert_eq!(count("en", 2), "2 patients");
        assert_eq!(count("es", 1), "1 paciente");
        assert_eq!(count("es", 5), "5 pacientes");
        assert_eq!(count("es", 1_000_000), "1000000 pacientes");
    }

    #[test]
    fn fallbacks_for_missing_messages() {
        let es = locale("es");
        assert_eq!(message(es, "no-such-message", &[]), "no-such-message");
        assert_eq!(
            message(es, "home-book.no-such-attribute", &[]),
            "home-book.no-such-attribute"
        );
        assert_eq!(message(es, "", &[]), "");
        assert_eq!(message(es, "home-book", &[]), "Reservar una cita");
        // A missing argument is visible in the output rather than a panic.
        assert!(message_plain(es, "home-greeting", &[]).contains("$clinic"));
    }

    #[test]
    fn missing_message_falls_back_to_french_bundle() {
        // Not reachable with the shipped files (the parity test forbids it), so exercise the
        // lookup directly on a bundle lacking the message.
        let mut partial = FluentBundle::new_concurrent(vec!["es".parse().unwrap()]);
        partial
            .add_resource(FluentResource::try_new("only-here = sí\n".into()).unwrap())
            .unwrap();
        assert_eq!(format_in(&partial, "home-book", &[]), None);
        let fr = &data(Locale::fallback()).bundle;
        let got = format_in(&partial, "home-book", &[]).or_else(|| format_in(fr, "home-book", &[]));
        assert_eq!(got.as_deref(), Some("Prendre rendez-vous"));
    }

    #[test]
    fn a_broken_file_keeps_its_valid_entries() {
        let data = build(
            "en",
            &[(
                "main.ftl",
                "ok = fine\nbroken = { $\nlocale-direction = rtl\n",
            )],
        );
        assert_eq!(format_in(&data.bundle, "ok", &[]).as_deref(), Some("fine"));
        assert_eq!(format_in(&data.bundle, "broken", &[]), None);
        assert_eq!(data.direction, Direction::Rtl);
        assert_eq!(data.autonym, "en");
        // No `locale-direction`: derived from the tag's script.
        assert_eq!(build("he", &[]).direction, Direction::Rtl);
        assert_eq!(build("de", &[]).direction, Direction::Ltr);
    }

    #[test]
    fn bundles_are_shared_across_threads() {
        fn assert_sync<T: Sync + Send>() {}
        assert_sync::<LocaleData>();
        let handles: Vec<_> = Locale::all()
            .map(|l| {
                std::thread::spawn(move || message(l, "patients-count", &[("count", Arg::Num(2))]))
            })
            .collect();
        for h in handles {
            assert!(!h.join().unwrap().is_empty());
        }
    }
}
