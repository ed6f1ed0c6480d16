//! FHIR R4 datatypes as static tables, and the one walker that checks a resource's JSON
//! against them (<https://hl7.org/fhir/R4/datatypes.html>,
//! <https://hl7.org/fhir/R4/json.html>).
//!
//! Every resource we accept is built from the same general-purpose datatypes, and each must
//! refuse what it does not understand at every depth instead of storing it silently: a
//! stored element nobody checked is an element some client will later trust. So a resource
//! is one more [`Type`] table (see [`crate::api::resources::patient::PATIENT`]), and [`check_resource`]
//! brings everything else: the `Element` / `BackboneElement` / `DomainResource` bases,
//! cardinality, primitive formats, required bindings, choice types `x[x]`, primitive
//! extensions `_x`, and the invariants listed on each type.
//!
//! # Expressions
//! Each issue carries the FHIRPath of the element at fault: `Patient.name[1].period.foo`;
//! a choice variant is `Patient.deceased.ofType(dateTime)`. Properties that only exist in
//! JSON keep their JSON name, as FHIRPath has none for them: `Patient.name[0]._family`.
//!
//! # What is refused rather than checked
//! - `modifierExtension` anywhere and `implicitRules`: they may change the meaning of
//!   everything else, we understand none, and FHIR says a system SHALL NOT ignore what it
//!   does not understand of them.
//! - `contained`: it may hold any resource type, and we can only vouch for those we have
//!   a table for.
//! - Extension values of the R4 metadata types and `Dosage` ([`EXTENSION_REFUSED`]): no
//!   table yet, and an unchecked value would be stored as if checked.
//!
//! # Not checked
//! Terminology beyond the required bindings listed here, reference targets, invariants
//! not listed on a type (e.g. `per-1` start ≤ end needs timezone-aware comparison), and
//! the significance of decimal digits (`serde_json` keeps numbers as `f64` or integers).

use std::fmt::{self, Write as _};

use serde_json::{Map, Value};

use super::{Issue, IssueCode};

/// Most issues one check reports: the last slot says that more were left out. Enough for
/// any honest mistake; a hostile body cannot make the answer grow with its size.
pub const MAX_ISSUES: usize = 100;
/// Deepest nesting of JSON objects below the resource that is walked. R4 datatypes nest a
/// few levels; only extensions of extensions go deeper, and not honestly beyond this.
pub const MAX_DEPTH: usize = 32;

/// A FHIR primitive type: its JSON type and lexical form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prim {
    Boolean,
    Integer,
    UnsignedInt,
    PositiveInt,
    Decimal,
    String,
    Code,
    Id,
    Uri,
    Url,
    Canonical,
    Oid,
    Uuid,
    Markdown,
    Base64Binary,
    Date,
    DateTime,
    Instant,
    Time,
    Xhtml,
}

impl Prim {
    /// The FHIR type name, as used in `ofType()` and in `value[x]` suffixes.
    pub fn name(self) -> &'static str {
        match self {
            Self::Boolean => "boolean",
            Self::Integer => "integer",
            Self::UnsignedInt => "unsignedInt",
            Self::PositiveInt => "positiveInt",
            Self::Decimal => "decimal",
            Self::String => "string",
            Self::Code => "code",
            Self::Id => "id",
            Self::Uri => "uri",
            Self::Url => "url",
            Self::Canonical => "canonical",
            Self::Oid => "oid",
            Self::Uuid => "uuid",
            Self::Markdown => "markdown",
            Self::Base64Binary => "base64Binary",
            Self::Date => "date",
            Self::DateTime => "dateTime",
            Self::Instant => "instant",
            Self::Time => "time",
            Self::Xhtml => "xhtml",
        }
    }

    /// What a valid value looks like, for diagnostics: "`<element>` must be …".
    fn expected(self) -> &'static str {
        match self {
            Self::Boolean => "true or false",
            Self::Integer => "an integer: a JSON number from -2147483648 to 2147483647",
            Self::UnsignedInt => "an unsignedInt: a JSON integer from 0 to 2147483647",
            Self::PositiveInt => "a positiveInt: a JSON integer from 1 to 2147483647",
            Self::Decimal => "a decimal: a JSON number, not a string",
            Self::String | Self::Markdown => {
                "a non-empty string with some non-whitespace content and no control characters"
            }
            Self::Code => "a code: a string without leading, trailing or repeated whitespace",
            Self::Id => "an id: 1 to 64 characters among A-Z a-z 0-9 - .",
            Self::Uri | Self::Url | Self::Canonical => {
                "a uri: a non-empty string without whitespace or control characters"
            }
            Self::Oid => "an oid: urn:oid: then a dotted number such as 1.2.3",
            Self::Uuid => "a uuid: urn:uuid: then a lower-case UUID",
            Self::Base64Binary => "base64Binary: base64 data (A-Z a-z 0-9 + / and = padding)",
            Self::Date => "a date: YYYY, YYYY-MM or YYYY-MM-DD, a real calendar day",
            Self::DateTime => {
                "a dateTime: YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss[.fff] with a \
                 timezone (Z or +hh:mm) when a time is given"
            }
            Self::Instant => "an instant: YYYY-MM-DDThh:mm:ss[.fff] with a timezone (Z or +hh:mm)",
            Self::Time => "a time: hh:mm:ss[.fff], without a timezone",
            Self::Xhtml => {
                "an XHTML <div> in the XHTML namespace, well-formed, with some content, using \
                 only the elements FHIR narrative allows and no scripts or event handlers"
            }
        }
    }

    /// Whether `v` is a valid value of this type in FHIR JSON.
    pub fn accepts(self, v: &Value) -> bool {
        const I32_MAX: u64 = i32::MAX as u64;
        match self {
            Self::Boolean => v.is_boolean(),
            Self::Integer => v.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
            Self::UnsignedInt => v.as_u64().is_some_and(|n| n <= I32_MAX),
            Self::PositiveInt => v.as_u64().is_some_and(|n| (1..=I32_MAX).contains(&n)),
            // JSON cannot spell NaN or infinities: any number is a decimal.
            Self::Decimal => v.is_number(),
            _ => v.as_str().is_some_and(|s| self.accepts_text(s)),
        }
    }

    fn accepts_text(self, s: &str) -> bool {
        match self {
            Self::String | Self::Markdown => is_string(s),
            Self::Code => is_code(s),
            Self::Id => {
                (1..=64).contains(&s.len())
                    && s.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
            }
            Self::Uri | Self::Url | Self::Canonical => {
                !s.is_empty() && !s.chars().any(|c| c.is_whitespace() || c.is_control())
            }
            Self::Oid => is_oid(s),
            Self::Uuid => is_uuid(s),
            Self::Base64Binary => is_base64(s),
            Self::Date => is_fhir_date(s),
            Self::DateTime => match s.split_once('T') {
                None => is_fhir_date(s),
                Some((date, time)) => is_full_date(date) && is_zoned_time(time),
            },
            Self::Instant => s
                .split_once('T')
                .is_some_and(|(date, time)| is_full_date(date) && is_zoned_time(time)),
            Self::Time => is_time(s),
            Self::Xhtml => is_narrative_div(s),
            Self::Boolean
            | Self::Integer
            | Self::UnsignedInt
            | Self::PositiveInt
            | Self::Decimal => false,
        }
    }
}

/// The codes a `code` element with a REQUIRED binding may hold: anything else is an error,
/// not merely a code we do not know.
#[derive(Debug)]
pub struct ValueSet {
    pub name: &'static str,
    pub codes: Codes,
}

/// The members of a [`ValueSet`].
#[derive(Debug)]
pub enum Codes {
    /// Separated by single spaces: no code of a value set listed here holds one.
    Listed(&'static str),
    /// Value sets too large to list (BCP 13 media types, ISO 4217 currencies): their grammar,
    /// and what it accepts in words.
    Grammar(fn(&str) -> bool, &'static str),
}

impl ValueSet {
    pub fn contains(&self, code: &str) -> bool {
        match self.codes {
            Codes::Listed(codes) => codes.split(' ').any(|c| c == code),
            Codes::Grammar(accepts, _) => accepts(code),
        }
    }

    /// Where `code` stands in a listed value set (`DaysOfWeek`: `mon` is 0).
    pub fn position(&self, code: &str) -> Option<usize> {
        match self.codes {
            Codes::Listed(codes) => codes.split(' ').position(|c| c == code),
            Codes::Grammar(..) => None,
        }
    }

    fn expected(&self) -> String {
        match self.codes {
            Codes::Listed(codes) => format!("one of {} ({})", codes.replace(' ', ", "), self.name),
            Codes::Grammar(_, what) => format!("{what} ({})", self.name),
        }
    }
}

/// What an element holds.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// A primitive, which `_name` may extend.
    Prim(Prim),
    /// A primitive that can carry neither id nor extensions, so that `_name` is no element:
    /// XML attributes in the other formats (`Element.id`, `Extension.url`) and xhtml.
    Bare(Prim),
    /// A `code` with a required binding.
    Code(&'static ValueSet),
    /// A complex datatype or a backbone element.
    Type(&'static Type),
    /// `name[x]`: one of these types, the JSON name suffixed with the type name.
    Choice(&'static Choice),
    /// An element we never accept, and why.
    Refused(&'static str),
}

impl Kind {
    /// Whether `_name` may carry the element's id and extensions.
    fn is_primitive(self) -> bool {
        matches!(self, Self::Prim(_) | Self::Code(_))
    }

    fn type_name(self) -> &'static str {
        match self {
            Self::Prim(p) | Self::Bare(p) => p.name(),
            Self::Code(_) => "code",
            Self::Type(t) => t.name,
            Self::Choice(_) | Self::Refused(_) => "",
        }
    }
}

/// The types a choice element `name[x]` may take.
#[derive(Debug)]
pub struct Choice {
    pub types: &'static [Kind],
    /// Types FHIR allows here that we refuse (`IssueCode::NotSupported`), so that a client
    /// learns it sent valid FHIR we cannot take rather than a mistake.
    pub refused: &'static [&'static str],
}

/// One element of a type.
#[derive(Debug)]
pub struct Elem {
    /// The JSON name; for a choice, the name without `[x]`.
    pub name: &'static str,
    pub kind: Kind,
    /// Minimum cardinality 1.
    pub required: bool,
    /// Maximum cardinality `*`: a JSON array, never a bare value.
    pub repeats: bool,
}

/// `0..1`
pub const fn opt(name: &'static str, kind: Kind) -> Elem {
    Elem {
        name,
        kind,
        required: false,
        repeats: false,
    }
}

/// `1..1`
pub const fn req(name: &'static str, kind: Kind) -> Elem {
    Elem {
        name,
        kind,
        required: true,
        repeats: false,
    }
}

/// `0..*`
pub const fn many(name: &'static str, kind: Kind) -> Elem {
    Elem {
        name,
        kind,
        required: false,
        repeats: true,
    }
}

/// `1..*`
pub const fn req_many(name: &'static str, kind: Kind) -> Elem {
    Elem {
        name,
        kind,
        required: true,
        repeats: true,
    }
}

/// What a type inherits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base {
    /// `id`, `extension`.
    Element,
    /// `id`, `extension`, `modifierExtension`.
    Backbone,
    /// `id`, `meta`, `implicitRules`, `language`, `text`, `contained`, `extension`,
    /// `modifierExtension`; `resourceType` is the caller's to check.
    DomainResource,
}

impl Base {
    fn elements(self) -> &'static [Elem] {
        match self {
            Self::Element => &ELEMENT_BASE,
            Self::Backbone => &BACKBONE_BASE,
            Self::DomainResource => &DOMAIN_RESOURCE_BASE,
        }
    }
}

/// A FHIR rule across the elements of one object (`ext-1`, `pat-1`…), reported with
/// `IssueCode::Invariant` at the object.
#[derive(Debug)]
pub struct Invariant {
    pub key: &'static str,
    pub human: &'static str,
    pub holds: fn(&Map<String, Value>) -> bool,
}

/// A complex datatype, backbone element or resource.
pub struct Type {
    /// The FHIR name: `HumanName`, `Patient.contact`, `Patient`.
    pub name: &'static str,
    pub base: Base,
    /// Its own elements, without those of its base.
    pub elements: &'static [Elem],
    pub invariants: &'static [Invariant],
}

// Types refer to each other (Identifier.assigner is a Reference, Reference.identifier an
// Identifier): a derived Debug would never end.
impl fmt::Debug for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

pub const BOOLEAN: Kind = Kind::Prim(Prim::Boolean);
pub const INTEGER: Kind = Kind::Prim(Prim::Integer);
pub const UNSIGNED_INT: Kind = Kind::Prim(Prim::UnsignedInt);
pub const POSITIVE_INT: Kind = Kind::Prim(Prim::PositiveInt);
pub const DECIMAL: Kind = Kind::Prim(Prim::Decimal);
pub const STRING: Kind = Kind::Prim(Prim::String);
pub const CODE: Kind = Kind::Prim(Prim::Code);
pub const ID: Kind = Kind::Prim(Prim::Id);
pub const URI: Kind = Kind::Prim(Prim::Uri);
pub const URL: Kind = Kind::Prim(Prim::Url);
pub const CANONICAL: Kind = Kind::Prim(Prim::Canonical);
pub const OID: Kind = Kind::Prim(Prim::Oid);
pub const UUID: Kind = Kind::Prim(Prim::Uuid);
pub const MARKDOWN: Kind = Kind::Prim(Prim::Markdown);
pub const BASE64_BINARY: Kind = Kind::Prim(Prim::Base64Binary);
pub const DATE: Kind = Kind::Prim(Prim::Date);
pub const DATE_TIME: Kind = Kind::Prim(Prim::DateTime);
pub const INSTANT: Kind = Kind::Prim(Prim::Instant);
pub const TIME: Kind = Kind::Prim(Prim::Time);

const MODIFIER_EXTENSION: &str = "modifier extensions are not supported: they may change the \
    meaning of the element, we understand none, and FHIR forbids ignoring them";
const IMPLICIT_RULES: &str = "implicitRules is not supported: the rules may change the meaning \
    of the resource and we understand none";
const CONTAINED: &str = "contained resources are not supported: they may be of any type and \
    only the resource types this API serves can be checked";

static ELEMENT_BASE: [Elem; 2] = [
    opt("id", Kind::Bare(Prim::String)),
    many("extension", Kind::Type(&EXTENSION)),
];
static BACKBONE_BASE: [Elem; 3] = [
    opt("id", Kind::Bare(Prim::String)),
    many("extension", Kind::Type(&EXTENSION)),
    many("modifierExtension", Kind::Refused(MODIFIER_EXTENSION)),
];
static DOMAIN_RESOURCE_BASE: [Elem; 8] = [
    // Like Element.id, Resource.id is a bare string in R4's definitions: no `_id`.
    opt("id", Kind::Bare(Prim::Id)),
    opt("meta", Kind::Type(&META)),
    opt("implicitRules", Kind::Refused(IMPLICIT_RULES)),
    opt("language", CODE),
    opt("text", Kind::Type(&NARRATIVE)),
    many("contained", Kind::Refused(CONTAINED)),
    many("extension", Kind::Type(&EXTENSION)),
    many("modifierExtension", Kind::Refused(MODIFIER_EXTENSION)),
];

pub static ADMINISTRATIVE_GENDER: ValueSet = ValueSet {
    name: "AdministrativeGender",
    codes: Codes::Listed("male female other unknown"),
};
pub static NAME_USE: ValueSet = ValueSet {
    name: "NameUse",
    codes: Codes::Listed("usual official temp nickname anonymous old maiden"),
};
pub static CONTACT_POINT_SYSTEM: ValueSet = ValueSet {
    name: "ContactPointSystem",
    codes: Codes::Listed("phone fax email pager url sms other"),
};
pub static CONTACT_POINT_USE: ValueSet = ValueSet {
    name: "ContactPointUse",
    codes: Codes::Listed("home work temp old mobile"),
};
pub static ADDRESS_USE: ValueSet = ValueSet {
    name: "AddressUse",
    codes: Codes::Listed("home work temp old billing"),
};
pub static ADDRESS_TYPE: ValueSet = ValueSet {
    name: "AddressType",
    codes: Codes::Listed("postal physical both"),
};
pub static IDENTIFIER_USE: ValueSet = ValueSet {
    name: "IdentifierUse",
    codes: Codes::Listed("usual official temp secondary old"),
};
pub static NARRATIVE_STATUS: ValueSet = ValueSet {
    name: "NarrativeStatus",
    codes: Codes::Listed("generated extensions additional empty"),
};
pub static QUANTITY_COMPARATOR: ValueSet = ValueSet {
    name: "QuantityComparator",
    codes: Codes::Listed("< <= >= >"),
};
pub static UNITS_OF_TIME: ValueSet = ValueSet {
    name: "UnitsOfTime",
    codes: Codes::Listed("s min h d wk mo a"),
};
pub static DAYS_OF_WEEK: ValueSet = ValueSet {
    name: "DaysOfWeek",
    codes: Codes::Listed("mon tue wed thu fri sat sun"),
};
pub static EVENT_TIMING: ValueSet = ValueSet {
    name: "EventTiming",
    codes: Codes::Listed(
        "MORN MORN.early MORN.late NOON AFT AFT.early AFT.late EVE EVE.early EVE.late NIGHT \
         PHS HS WAKE C CM CD CV AC ACM ACD ACV PC PCM PCD PCV",
    ),
};
pub static MIME_TYPES: ValueSet = ValueSet {
    name: "MimeTypes",
    codes: Codes::Grammar(
        is_media_type,
        "a media type such as text/plain or image/png",
    ),
};
pub static CURRENCIES: ValueSet = ValueSet {
    name: "Currencies",
    codes: Codes::Grammar(
        |c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()),
        "an ISO 4217 currency code such as EUR or XOF",
    ),
};

/// `Element`: the holder of a primitive's id and extensions in `_name`.
pub static ELEMENT: Type = Type {
    name: "Element",
    base: Base::Element,
    elements: &[],
    invariants: &[],
};

/// The R4 `Extension.value[x]` types we have no table for (see the module documentation).
pub const EXTENSION_REFUSED: &[&str] = &[
    "ContactDetail",
    "Contributor",
    "DataRequirement",
    "Expression",
    "ParameterDefinition",
    "RelatedArtifact",
    "TriggerDefinition",
    "UsageContext",
    "Dosage",
];

pub static EXTENSION: Type = Type {
    name: "Extension",
    base: Base::Element,
    elements: &[
        req("url", Kind::Bare(Prim::Uri)),
        opt(
            "value",
            Kind::Choice(&Choice {
                types: &[
                    BASE64_BINARY,
                    BOOLEAN,
                    CANONICAL,
                    CODE,
                    DATE,
                    DATE_TIME,
                    DECIMAL,
                    ID,
                    INSTANT,
                    INTEGER,
                    MARKDOWN,
                    OID,
                    POSITIVE_INT,
                    STRING,
                    TIME,
                    UNSIGNED_INT,
                    URI,
                    URL,
                    UUID,
                    Kind::Type(&ADDRESS),
                    Kind::Type(&AGE),
                    Kind::Type(&ANNOTATION),
                    Kind::Type(&ATTACHMENT),
                    Kind::Type(&CODEABLE_CONCEPT),
                    Kind::Type(&CODING),
                    Kind::Type(&CONTACT_POINT),
                    Kind::Type(&COUNT),
                    Kind::Type(&DISTANCE),
                    Kind::Type(&DURATION),
                    Kind::Type(&HUMAN_NAME),
                    Kind::Type(&IDENTIFIER),
                    Kind::Type(&MONEY),
                    Kind::Type(&PERIOD),
                    Kind::Type(&QUANTITY),
                    Kind::Type(&RANGE),
                    Kind::Type(&RATIO),
                    Kind::Type(&REFERENCE),
                    Kind::Type(&SAMPLED_DATA),
                    Kind::Type(&SIGNATURE),
                    Kind::Type(&TIMING),
                    Kind::Type(&META),
                ],
                refused: EXTENSION_REFUSED,
            }),
        ),
    ],
    invariants: &[Invariant {
        key: "ext-1",
        human: "an extension must have either extensions or a value[x], not both",
        holds: |o| {
            let has_value = o.keys().any(|k| {
                k.strip_prefix('_')
                    .unwrap_or(k)
                    .strip_prefix("value")
                    .is_some_and(|t| t.starts_with(|c: char| c.is_ascii_uppercase()))
            });
            o.contains_key("extension") != has_value
        },
    }],
};

pub static CODING: Type = Type {
    name: "Coding",
    base: Base::Element,
    elements: &[
        opt("system", URI),
        opt("version", STRING),
        opt("code", CODE),
        opt("display", STRING),
        opt("userSelected", BOOLEAN),
    ],
    invariants: &[],
};

pub static CODEABLE_CONCEPT: Type = Type {
    name: "CodeableConcept",
    base: Base::Element,
    elements: &[many("coding", Kind::Type(&CODING)), opt("text", STRING)],
    invariants: &[],
};

pub static IDENTIFIER: Type = Type {
    name: "Identifier",
    base: Base::Element,
    elements: &[
        opt("use", Kind::Code(&IDENTIFIER_USE)),
        opt("type", Kind::Type(&CODEABLE_CONCEPT)),
        opt("system", URI),
        opt("value", STRING),
        opt("period", Kind::Type(&PERIOD)),
        opt("assigner", Kind::Type(&REFERENCE)),
    ],
    invariants: &[],
};

pub static HUMAN_NAME: Type = Type {
    name: "HumanName",
    base: Base::Element,
    elements: &[
        opt("use", Kind::Code(&NAME_USE)),
        opt("text", STRING),
        opt("family", STRING),
        many("given", STRING),
        many("prefix", STRING),
        many("suffix", STRING),
        opt("period", Kind::Type(&PERIOD)),
    ],
    invariants: &[],
};

pub static ADDRESS: Type = Type {
    name: "Address",
    base: Base::Element,
    elements: &[
        opt("use", Kind::Code(&ADDRESS_USE)),
        opt("type", Kind::Code(&ADDRESS_TYPE)),
        opt("text", STRING),
        many("line", STRING),
        opt("city", STRING),
        opt("district", STRING),
        opt("state", STRING),
        opt("postalCode", STRING),
        opt("country", STRING),
        opt("period", Kind::Type(&PERIOD)),
    ],
    invariants: &[],
};

pub static CONTACT_POINT: Type = Type {
    name: "ContactPoint",
    base: Base::Element,
    elements: &[
        opt("system", Kind::Code(&CONTACT_POINT_SYSTEM)),
        opt("value", STRING),
        opt("use", Kind::Code(&CONTACT_POINT_USE)),
        opt("rank", POSITIVE_INT),
        opt("period", Kind::Type(&PERIOD)),
    ],
    invariants: &[Invariant {
        key: "cpt-2",
        human: "a system is required if a value is provided",
        holds: |o| !o.contains_key("value") || o.contains_key("system"),
    }],
};

pub static PERIOD: Type = Type {
    name: "Period",
    base: Base::Element,
    elements: &[opt("start", DATE_TIME), opt("end", DATE_TIME)],
    invariants: &[],
};

pub static REFERENCE: Type = Type {
    name: "Reference",
    base: Base::Element,
    elements: &[
        opt("reference", STRING),
        opt("type", URI),
        opt("identifier", Kind::Type(&IDENTIFIER)),
        opt("display", STRING),
    ],
    invariants: &[],
};

pub static ATTACHMENT: Type = Type {
    name: "Attachment",
    base: Base::Element,
    elements: &[
        opt("contentType", Kind::Code(&MIME_TYPES)),
        opt("language", CODE),
        opt("data", BASE64_BINARY),
        opt("url", URL),
        opt("size", UNSIGNED_INT),
        opt("hash", BASE64_BINARY),
        opt("title", STRING),
        opt("creation", DATE_TIME),
    ],
    invariants: &[Invariant {
        key: "att-1",
        human: "if the Attachment has data, it must have a contentType",
        holds: |o| !o.contains_key("data") || o.contains_key("contentType"),
    }],
};

/// `qty-3`, shared by every type of Quantity's shape.
const QTY_3: Invariant = Invariant {
    key: "qty-3",
    human: "if a code for the unit is present, the system must also be present",
    holds: |o| !o.contains_key("code") || o.contains_key("system"),
};
static QUANTITY_ELEMENTS: [Elem; 5] = [
    opt("value", DECIMAL),
    opt("comparator", Kind::Code(&QUANTITY_COMPARATOR)),
    opt("unit", STRING),
    opt("system", URI),
    opt("code", CODE),
];

pub static QUANTITY: Type = Type {
    name: "Quantity",
    base: Base::Element,
    elements: &QUANTITY_ELEMENTS,
    invariants: &[QTY_3],
};
/// A Quantity without `comparator` (`sqty-1`): absent from the table, it is refused.
pub static SIMPLE_QUANTITY: Type = Type {
    name: "SimpleQuantity",
    base: Base::Element,
    elements: &[
        opt("value", DECIMAL),
        opt("unit", STRING),
        opt("system", URI),
        opt("code", CODE),
    ],
    invariants: &[QTY_3],
};
pub static AGE: Type = Type {
    name: "Age",
    base: Base::Element,
    elements: &QUANTITY_ELEMENTS,
    invariants: &[QTY_3],
};
pub static COUNT: Type = Type {
    name: "Count",
    base: Base::Element,
    elements: &QUANTITY_ELEMENTS,
    invariants: &[QTY_3],
};
pub static DISTANCE: Type = Type {
    name: "Distance",
    base: Base::Element,
    elements: &QUANTITY_ELEMENTS,
    invariants: &[QTY_3],
};
pub static DURATION: Type = Type {
    name: "Duration",
    base: Base::Element,
    elements: &QUANTITY_ELEMENTS,
    invariants: &[QTY_3],
};

pub static RANGE: Type = Type {
    name: "Range",
    base: Base::Element,
    elements: &[
        opt("low", Kind::Type(&SIMPLE_QUANTITY)),
        opt("high", Kind::Type(&SIMPLE_QUANTITY)),
    ],
    invariants: &[],
};

pub static RATIO: Type = Type {
    name: "Ratio",
    base: Base::Element,
    elements: &[
        opt("numerator", Kind::Type(&QUANTITY)),
        opt("denominator", Kind::Type(&QUANTITY)),
    ],
    invariants: &[],
};

pub static ANNOTATION: Type = Type {
    name: "Annotation",
    base: Base::Element,
    elements: &[
        opt(
            "author",
            Kind::Choice(&Choice {
                types: &[Kind::Type(&REFERENCE), STRING],
                refused: &[],
            }),
        ),
        opt("time", DATE_TIME),
        req("text", MARKDOWN),
    ],
    invariants: &[],
};

/// Money's value is a JSON number here, as in FHIR; whoever computes with it uses a
/// decimal type, never `f64`.
pub static MONEY: Type = Type {
    name: "Money",
    base: Base::Element,
    elements: &[
        opt("value", DECIMAL),
        opt("currency", Kind::Code(&CURRENCIES)),
    ],
    invariants: &[],
};

pub static SAMPLED_DATA: Type = Type {
    name: "SampledData",
    base: Base::Element,
    elements: &[
        req("origin", Kind::Type(&SIMPLE_QUANTITY)),
        req("period", DECIMAL),
        opt("factor", DECIMAL),
        opt("lowerLimit", DECIMAL),
        opt("upperLimit", DECIMAL),
        req("dimensions", POSITIVE_INT),
        opt("data", STRING),
    ],
    invariants: &[],
};

pub static SIGNATURE: Type = Type {
    name: "Signature",
    base: Base::Element,
    elements: &[
        req_many("type", Kind::Type(&CODING)),
        req("when", INSTANT),
        req("who", Kind::Type(&REFERENCE)),
        opt("onBehalfOf", Kind::Type(&REFERENCE)),
        opt("targetFormat", Kind::Code(&MIME_TYPES)),
        opt("sigFormat", Kind::Code(&MIME_TYPES)),
        opt("data", BASE64_BINARY),
    ],
    invariants: &[],
};

/// R4 Timing is a BackboneElement: it may carry (refused) modifier extensions.
pub static TIMING: Type = Type {
    name: "Timing",
    base: Base::Backbone,
    elements: &[
        many("event", DATE_TIME),
        opt("repeat", Kind::Type(&TIMING_REPEAT)),
        opt("code", Kind::Type(&CODEABLE_CONCEPT)),
    ],
    invariants: &[],
};

pub static TIMING_REPEAT: Type = Type {
    name: "Timing.repeat",
    base: Base::Element,
    elements: &[
        opt(
            "bounds",
            Kind::Choice(&Choice {
                types: &[
                    Kind::Type(&DURATION),
                    Kind::Type(&RANGE),
                    Kind::Type(&PERIOD),
                ],
                refused: &[],
            }),
        ),
        opt("count", POSITIVE_INT),
        opt("countMax", POSITIVE_INT),
        opt("duration", DECIMAL),
        opt("durationMax", DECIMAL),
        opt("durationUnit", Kind::Code(&UNITS_OF_TIME)),
        opt("frequency", POSITIVE_INT),
        opt("frequencyMax", POSITIVE_INT),
        opt("period", DECIMAL),
        opt("periodMax", DECIMAL),
        opt("periodUnit", Kind::Code(&UNITS_OF_TIME)),
        many("dayOfWeek", Kind::Code(&DAYS_OF_WEEK)),
        many("timeOfDay", TIME),
        many("when", Kind::Code(&EVENT_TIMING)),
        opt("offset", UNSIGNED_INT),
    ],
    invariants: &[
        Invariant {
            key: "tim-1",
            human: "if there's a duration, there needs to be duration units",
            holds: |o| !o.contains_key("duration") || o.contains_key("durationUnit"),
        },
        Invariant {
            key: "tim-2",
            human: "if there's a period, there needs to be period units",
            holds: |o| !o.contains_key("period") || o.contains_key("periodUnit"),
        },
        Invariant {
            key: "tim-6",
            human: "if there's a periodMax, there must be a period",
            holds: |o| !o.contains_key("periodMax") || o.contains_key("period"),
        },
        Invariant {
            key: "tim-7",
            human: "if there's a durationMax, there must be a duration",
            holds: |o| !o.contains_key("durationMax") || o.contains_key("duration"),
        },
        Invariant {
            key: "tim-8",
            human: "if there's a countMax, there must be a count",
            holds: |o| !o.contains_key("countMax") || o.contains_key("count"),
        },
        Invariant {
            key: "tim-10",
            human: "if there's a timeOfDay, there cannot be a when, or vice versa",
            holds: |o| !(o.contains_key("timeOfDay") && o.contains_key("when")),
        },
    ],
};

pub static META: Type = Type {
    name: "Meta",
    base: Base::Element,
    elements: &[
        opt("versionId", ID),
        opt("lastUpdated", INSTANT),
        opt("source", URI),
        many("profile", CANONICAL),
        many("security", Kind::Type(&CODING)),
        many("tag", Kind::Type(&CODING)),
    ],
    invariants: &[],
};

/// The narrative is returned to other clients, which may render it: `div` is held to the
/// XHTML subset FHIR allows (`txt-1`, `txt-2`).
pub static NARRATIVE: Type = Type {
    name: "Narrative",
    base: Base::Element,
    elements: &[
        req("status", Kind::Code(&NARRATIVE_STATUS)),
        req("div", Kind::Bare(Prim::Xhtml)),
    ],
    invariants: &[],
};

/// Checks `resource`, whose `resourceType` the caller has matched to `ty`, against `ty`.
/// Returns every fault found in one pass, each with its FHIRPath, at most [`MAX_ISSUES`].
pub fn check_resource(resource: &Map<String, Value>, ty: &'static Type) -> Vec<Issue> {
    let mut walker = Walker {
        issues: Vec::new(),
        path: ty.name.to_owned(),
        full: false,
    };
    walker.object(resource, ty, 0);
    walker.issues
}

fn elements_of(ty: &'static Type) -> impl Iterator<Item = &'static Elem> {
    ty.elements.iter().chain(ty.base.elements())
}

enum Lookup {
    /// A declared element; for a choice, `kind` is the variant's type.
    Found {
        elem: &'static Elem,
        kind: Kind,
    },
    /// A choice variant of a type FHIR allows and we refuse.
    Refused {
        elem: &'static Elem,
        type_name: &'static str,
    },
    Unknown,
}

fn lookup(ty: &'static Type, key: &str) -> Lookup {
    for elem in elements_of(ty) {
        match elem.kind {
            Kind::Choice(choice) => {
                let Some(suffix) = key.strip_prefix(elem.name) else {
                    continue;
                };
                if let Some(kind) = choice
                    .types
                    .iter()
                    .find(|k| is_type_suffix(suffix, k.type_name()))
                {
                    return Lookup::Found { elem, kind: *kind };
                }
                if let Some(&type_name) = choice.refused.iter().find(|t| **t == suffix) {
                    return Lookup::Refused { elem, type_name };
                }
            }
            _ if elem.name == key => {
                return Lookup::Found {
                    elem,
                    kind: elem.kind,
                };
            }
            _ => {}
        }
    }
    Lookup::Unknown
}

/// `DateTime` is the JSON suffix of `dateTime`, `Period` of `Period`.
fn is_type_suffix(suffix: &str, type_name: &str) -> bool {
    let (mut s, mut t) = (suffix.chars(), type_name.chars());
    match (s.next(), t.next()) {
        (Some(a), Some(b)) => a.is_ascii_uppercase() && a == b.to_ascii_uppercase() && s.eq(t),
        _ => false,
    }
}

/// Whether JSON property `key` (or `_key`) belongs to `elem`.
fn is_of(elem: &Elem, key: &str) -> bool {
    let key = key.strip_prefix('_').unwrap_or(key);
    match elem.kind {
        Kind::Choice(choice) => key.strip_prefix(elem.name).is_some_and(|suffix| {
            choice
                .types
                .iter()
                .any(|k| is_type_suffix(suffix, k.type_name()))
                || choice.refused.contains(&suffix)
        }),
        _ => key == elem.name,
    }
}

struct Walker {
    issues: Vec<Issue>,
    /// FHIRPath of the element being checked.
    path: String,
    /// [`MAX_ISSUES`] reached: nothing more is reported or walked.
    full: bool,
}

impl Walker {
    fn report(&mut self, code: IssueCode, diagnostics: impl Into<String>) {
        if self.full {
            return;
        }
        if self.issues.len() + 1 >= MAX_ISSUES {
            self.full = true;
            self.issues.push(
                Issue::new(
                    IssueCode::TooLong,
                    format!(
                        "too many issues: only the first {} are reported",
                        MAX_ISSUES - 1
                    ),
                )
                .at(self.path.clone()),
            );
            return;
        }
        self.issues
            .push(Issue::new(code, diagnostics).at(self.path.clone()));
    }

    /// Appends to the path; returns what [`Walker::pop`] restores.
    fn push(&mut self, segment: fmt::Arguments<'_>) -> usize {
        let len = self.path.len();
        // Writing to a String cannot fail.
        let _ = self.path.write_fmt(segment);
        len
    }

    fn pop(&mut self, len: usize) {
        self.path.truncate(len);
    }

    fn object(&mut self, obj: &Map<String, Value>, ty: &'static Type, depth: usize) {
        if depth > MAX_DEPTH {
            self.report(
                IssueCode::TooLong,
                format!("elements nested deeper than {MAX_DEPTH} levels are not accepted"),
            );
            return;
        }
        let is_resource = ty.base == Base::DomainResource;
        for (key, value) in obj {
            if self.full {
                return;
            }
            if is_resource && key == "resourceType" {
                continue;
            }
            if let Some(name) = key.strip_prefix('_') {
                let at = self.push(format_args!(".{key}"));
                self.primitive_extension(obj, ty, key, name, value, depth);
                self.pop(at);
                continue;
            }
            match lookup(ty, key) {
                Lookup::Found { elem, kind } => {
                    let at = if matches!(elem.kind, Kind::Choice(_)) {
                        self.push(format_args!(".{}.ofType({})", elem.name, kind.type_name()))
                    } else {
                        self.push(format_args!(".{key}"))
                    };
                    self.element(obj, elem, key, kind, value, depth);
                    self.pop(at);
                }
                Lookup::Refused { elem, type_name } => {
                    let at = self.push(format_args!(".{}.ofType({type_name})", elem.name));
                    self.report(
                        IssueCode::NotSupported,
                        format!(
                            "{key}: {}.{}[x] of type {type_name} is not supported",
                            ty.name, elem.name
                        ),
                    );
                    self.pop(at);
                }
                Lookup::Unknown => {
                    let at = self.push(format_args!(".{key}"));
                    self.report(
                        IssueCode::Structure,
                        format!("unknown element {key:?}: not part of FHIR R4 {}", ty.name),
                    );
                    self.pop(at);
                }
            }
        }
        for elem in elements_of(ty) {
            let mut present: Vec<&str> = obj
                .keys()
                .filter(|k| is_of(elem, k))
                .map(|k| k.strip_prefix('_').unwrap_or(k))
                .collect();
            present.sort_unstable();
            present.dedup();
            if present.len() > 1 {
                let at = self.push(format_args!(".{}", elem.name));
                self.report(
                    IssueCode::Structure,
                    format!(
                        "{}[x] takes one type only; found {}",
                        elem.name,
                        present.join(", ")
                    ),
                );
                self.pop(at);
            } else if present.is_empty() && elem.required {
                let at = self.push(format_args!(".{}", elem.name));
                self.report(
                    IssueCode::Required,
                    format!("{} is required in {}", elem.name, ty.name),
                );
                self.pop(at);
            }
        }
        if !is_resource && obj.keys().all(|k| k == "id") {
            self.report(
                IssueCode::Structure,
                format!(
                    "an empty {}: an element must have a value or children besides its id (ele-1)",
                    ty.name
                ),
            );
        }
        for rule in ty.invariants {
            if !(rule.holds)(obj) {
                self.report(
                    IssueCode::Invariant,
                    format!("{}: {} ({})", ty.name, rule.human, rule.key),
                );
            }
        }
    }

    fn element(
        &mut self,
        parent: &Map<String, Value>,
        elem: &Elem,
        key: &str,
        kind: Kind,
        value: &Value,
        depth: usize,
    ) {
        if let Kind::Refused(why) = kind {
            self.report(IssueCode::NotSupported, why);
            return;
        }
        if !elem.repeats {
            if value.is_array() {
                self.report(
                    IssueCode::Structure,
                    format!("{key} must be a single value, not an array"),
                );
            } else {
                self.value(key, kind, value, depth);
            }
            return;
        }
        let Value::Array(items) = value else {
            self.report(IssueCode::Structure, format!("{key} must be an array"));
            return;
        };
        if items.is_empty() {
            self.report(
                IssueCode::Structure,
                format!("{key} must not be an empty array: leave it out"),
            );
            return;
        }
        let extensions = parent.get(&format!("_{key}")).and_then(Value::as_array);
        for (i, item) in items.iter().enumerate() {
            if self.full {
                return;
            }
            let at = self.push(format_args!("[{i}]"));
            if item.is_null() && kind.is_primitive() {
                // A null keeps the positions of `_key` aligned, for an item that has only
                // extensions.
                if !extensions
                    .and_then(|e| e.get(i))
                    .is_some_and(Value::is_object)
                {
                    self.report(
                        IssueCode::Structure,
                        format!("{key}[{i}] is null but _{key}[{i}] holds no extension"),
                    );
                }
            } else {
                self.value(key, kind, item, depth);
            }
            self.pop(at);
        }
    }

    fn value(&mut self, key: &str, kind: Kind, value: &Value, depth: usize) {
        if value.is_null() {
            self.report(
                IssueCode::Structure,
                format!("{key} is null: leave an absent element out"),
            );
            return;
        }
        match kind {
            Kind::Prim(p) | Kind::Bare(p) => {
                if !p.accepts(value) {
                    self.report(IssueCode::Value, format!("{key} must be {}", p.expected()));
                }
            }
            Kind::Code(set) => {
                if !value.as_str().is_some_and(|c| set.contains(c)) {
                    self.report(
                        IssueCode::Value,
                        format!("{key} must be {}", set.expected()),
                    );
                }
            }
            Kind::Type(ty) => match value {
                Value::Object(obj) => self.object(obj, ty, depth + 1),
                _ => self.report(
                    IssueCode::Structure,
                    format!("{key} must be a JSON object (a {})", ty.name),
                ),
            },
            Kind::Refused(why) => self.report(IssueCode::NotSupported, why),
            // `lookup` resolves a choice to one of its types before any value is checked.
            Kind::Choice(_) => {}
        }
    }

    /// `_name`: the id and extensions of primitive `name`, aligned item by item with
    /// `name` when it repeats.
    fn primitive_extension(
        &mut self,
        parent: &Map<String, Value>,
        ty: &'static Type,
        key: &str,
        name: &str,
        value: &Value,
        depth: usize,
    ) {
        let elem = match lookup(ty, name) {
            Lookup::Found { elem, kind } if kind.is_primitive() => elem,
            _ => {
                self.report(
                    IssueCode::Structure,
                    format!(
                        "unknown element {key:?}: {name:?} is no primitive element of FHIR R4 {}",
                        ty.name
                    ),
                );
                return;
            }
        };
        if !elem.repeats {
            match value {
                Value::Object(obj) => self.object(obj, &ELEMENT, depth + 1),
                _ => self.report(
                    IssueCode::Structure,
                    format!("{key} must be a JSON object holding the id and extensions of {name}"),
                ),
            }
            return;
        }
        let Value::Array(extensions) = value else {
            self.report(
                IssueCode::Structure,
                format!("{key} must be an array, as {name} repeats"),
            );
            return;
        };
        let values = parent.get(name).and_then(Value::as_array);
        if let Some(values) = values
            && values.len() != extensions.len()
        {
            self.report(
                IssueCode::Structure,
                format!(
                    "{key} must have as many items as {name} ({}), not {}",
                    values.len(),
                    extensions.len()
                ),
            );
            return;
        }
        if extensions.is_empty() {
            self.report(
                IssueCode::Structure,
                format!("{key} must not be an empty array: leave it out"),
            );
            return;
        }
        for (i, extension) in extensions.iter().enumerate() {
            if self.full {
                return;
            }
            let at = self.push(format_args!("[{i}]"));
            match extension {
                Value::Object(obj) => self.object(obj, &ELEMENT, depth + 1),
                // With `name` present, a null on both sides is reported there.
                Value::Null if values.is_none() => self.report(
                    IssueCode::Structure,
                    format!("{name}[{i}] has neither a value nor an extension"),
                ),
                Value::Null => {}
                _ => self.report(
                    IssueCode::Structure,
                    format!("{key}[{i}] must be a JSON object (an Element) or null"),
                ),
            }
            self.pop(at);
        }
    }
}

/// R4 `string`: not empty, and, beyond the spec's regex, some non-whitespace content and
/// no control characters but tab, CR and LF: a blank or binary string is never what a
/// client meant, and it would be stored and shown as is.
fn is_string(s: &str) -> bool {
    s.chars().any(|c| !c.is_whitespace())
        && !s
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\t' | '\r' | '\n'))
}

/// R4 `code`: `[^\s]+(\s[^\s]+)*`.
fn is_code(s: &str) -> bool {
    let mut previous_space = true;
    for c in s.chars() {
        let space = c.is_whitespace();
        if space && previous_space {
            return false;
        }
        previous_space = space;
    }
    !s.is_empty() && !previous_space
}

/// R4 `oid`: `urn:oid:[0-2](\.(0|[1-9][0-9]*))+`.
fn is_oid(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("urn:oid:") else {
        return false;
    };
    let mut arcs = rest.split('.');
    let first_ok = arcs.next().is_some_and(|a| matches!(a, "0" | "1" | "2"));
    let mut count = 0;
    let others_ok = arcs.all(|a| {
        count += 1;
        !a.is_empty() && a.bytes().all(|b| b.is_ascii_digit()) && (a == "0" || !a.starts_with('0'))
    });
    first_ok && others_ok && count > 0
}

/// R4 `uuid`: `urn:uuid:` and a lower-case 8-4-4-4-12 UUID.
fn is_uuid(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("urn:uuid:") else {
        return false;
    };
    rest.len() == 36
        && rest.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
        })
}

/// R4 `base64Binary`: groups of four base64 characters, whitespace allowed between, `=`
/// only as final padding.
fn is_base64(s: &str) -> bool {
    let mut len = 0usize;
    let mut padding = 0usize;
    for b in s.bytes().filter(|b| !b.is_ascii_whitespace()) {
        if b == b'=' {
            padding += 1;
        } else if padding > 0 || !(b.is_ascii_alphanumeric() || b == b'+' || b == b'/') {
            return false;
        }
        len += 1;
    }
    len > 0 && len.is_multiple_of(4) && padding <= 2
}

/// A FHIR `date`: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, a real calendar day of years 0001 to
/// 9999 (the R4 regex has no year 0000).
pub fn is_fhir_date(s: &str) -> bool {
    let mut parts = s.split('-');
    let year = parts.next().and_then(|y| digits(y, 4)).filter(|y| *y > 0);
    let month = parts
        .next()
        .map(|m| digits(m, 2).filter(|m| (1..=12).contains(m)));
    let day = parts.next().map(|d| digits(d, 2));
    if parts.next().is_some() {
        return false;
    }
    match (year, month, day) {
        (Some(_), None, None) | (Some(_), Some(Some(_)), None) => true,
        (Some(y), Some(Some(m)), Some(Some(d))) => d >= 1 && d <= days_in_month(y, m),
        _ => false,
    }
}

/// `YYYY-MM-DD` only, as before the `T` of a dateTime or instant.
fn is_full_date(s: &str) -> bool {
    s.len() == 10 && is_fhir_date(s)
}

/// `len` ASCII digits and their value.
fn digits(s: &str, len: usize) -> Option<u32> {
    (s.len() == len && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

pub(crate) fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        2 if (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// R4 `time`: `hh:mm:ss` (second 60 for a leap second), optional fraction, no zone.
fn is_time(s: &str) -> bool {
    let (hms, fraction) = match s.split_once('.') {
        Some((hms, f)) => (hms, Some(f)),
        None => (s, None),
    };
    let mut parts = hms.split(':');
    let ok = |p: Option<&str>, max: u32| p.and_then(|p| digits(p, 2)).is_some_and(|n| n <= max);
    ok(parts.next(), 23)
        && ok(parts.next(), 59)
        && ok(parts.next(), 60)
        && parts.next().is_none()
        && fraction.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

/// The part of a dateTime or instant after `T`: a time and its zone, `Z` or `±hh:mm` from
/// -14:00 to +14:00.
fn is_zoned_time(s: &str) -> bool {
    if let Some(time) = s.strip_suffix('Z') {
        return is_time(time);
    }
    let Some(sign) = s.rfind(['+', '-']) else {
        return false;
    };
    let (time, zone) = s.split_at(sign);
    let zone = &zone[1..];
    let offset_ok = match zone.split_once(':') {
        Some((h, m)) => match (digits(h, 2), digits(m, 2)) {
            (Some(14), Some(0)) => true,
            (Some(h), Some(m)) => h <= 13 && m <= 59,
            _ => false,
        },
        None => false,
    };
    offset_ok && is_time(time)
}

/// BCP 13 `type/subtype` with optional `; parameter=value`s, as `Attachment.contentType`
/// must be; the shape only, as the registry is open-ended.
fn is_media_type(s: &str) -> bool {
    let token = |t: &str| {
        !t.is_empty()
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    let mut parts = s.split(';');
    let essence_ok = parts
        .next()
        .and_then(|e| e.split_once('/'))
        .is_some_and(|(t, sub)| token(t) && token(sub));
    essence_ok
        && parts.all(|p| {
            p.trim_start()
                .split_once('=')
                .is_some_and(|(name, value)| token(name) && !value.is_empty())
        })
        && is_code(s)
}

/// The elements FHIR narrative may use: HTML 4 chapters 7-11 and 12, and `img`
/// (<https://hl7.org/fhir/R4/narrative.html#xhtml>).
const NARRATIVE_ELEMENTS: &str = "a abbr acronym address area b bdo big blockquote br \
    caption cite code col colgroup dd dfn div dl dt em h1 h2 h3 h4 h5 h6 hr i img kbd li map ol \
    p pre q samp small span strong sub sup table tbody td tfoot th thead tr tt ul var";
const XHTML_NAMESPACE: &str = "http://www.w3.org/1999/xhtml";

/// `Narrative.div`: one `<div>` in the XHTML namespace, tags balanced, only
/// [`NARRATIVE_ELEMENTS`], no event-handler attributes or script URLs (`txt-1`), and some
/// text or an image (`txt-2`). Not a full XML parser: entities and attribute names are not
/// checked beyond what keeps scripts out.
fn is_narrative_div(s: &str) -> bool {
    let mut rest = s.trim();
    let mut open: Vec<&str> = Vec::new();
    let mut content = false;
    let mut root_closed = false;
    while !rest.is_empty() {
        if root_closed {
            return false;
        }
        let text_len = rest.find('<').unwrap_or(rest.len());
        if text_len > 0 {
            let (text, tail) = rest.split_at(text_len);
            if open.is_empty() {
                return false;
            }
            content |= text.chars().any(|c| !c.is_whitespace());
            rest = tail;
            continue;
        }
        if let Some(comment) = rest.strip_prefix("<!--") {
            let Some(end) = comment.find("-->") else {
                return false;
            };
            rest = &comment[end + 3..];
            continue;
        }
        let Some(tag) = Tag::parse(rest) else {
            return false;
        };
        if !NARRATIVE_ELEMENTS.split(' ').any(|e| e == tag.name) {
            return false;
        }
        if open.is_empty() && (tag.name != "div" || tag.xmlns != Some(XHTML_NAMESPACE)) {
            return false;
        }
        content |= tag.name == "img";
        if tag.closing {
            if open.pop() != Some(tag.name) {
                return false;
            }
        } else if !tag.empty {
            open.push(tag.name);
        }
        root_closed = open.is_empty();
        rest = tag.rest;
    }
    root_closed && content
}

struct Tag<'a> {
    name: &'a str,
    closing: bool,
    /// `<br/>`
    empty: bool,
    xmlns: Option<&'a str>,
    rest: &'a str,
}

impl<'a> Tag<'a> {
    /// The tag `s` starts with (at its `<`); `None` if malformed or unsafe. Every index is
    /// that of an ASCII byte or the end, so every slice falls on a character boundary.
    fn parse(s: &'a str) -> Option<Self> {
        let b = s.as_bytes();
        let closing = b.get(1) == Some(&b'/');
        let mut i = if closing { 2 } else { 1 };
        let name_start = i;
        while b.get(i).is_some_and(u8::is_ascii_alphanumeric) {
            i += 1;
        }
        let name = s.get(name_start..i).filter(|n| !n.is_empty())?;
        let mut xmlns = None;
        loop {
            while b.get(i).is_some_and(u8::is_ascii_whitespace) {
                i += 1;
            }
            match *b.get(i)? {
                b'>' => {
                    return Some(Self {
                        name,
                        closing,
                        empty: false,
                        xmlns,
                        rest: s.get(i + 1..)?,
                    });
                }
                b'/' if !closing && b.get(i + 1) == Some(&b'>') => {
                    return Some(Self {
                        name,
                        closing,
                        empty: true,
                        xmlns,
                        rest: s.get(i + 2..)?,
                    });
                }
                _ if closing => return None,
                _ => {
                    let attr_start = i;
                    while b
                        .get(i)
                        .is_some_and(|c| c.is_ascii_alphanumeric() || b"-_:.".contains(c))
                    {
                        i += 1;
                    }
                    let attr = s.get(attr_start..i).filter(|a| !a.is_empty())?;
                    while b.get(i).is_some_and(u8::is_ascii_whitespace) {
                        i += 1;
                    }
                    if b.get(i) != Some(&b'=') {
                        return None;
                    }
                    i += 1;
                    while b.get(i).is_some_and(u8::is_ascii_whitespace) {
                        i += 1;
                    }
                    let quote = *b.get(i).filter(|q| matches!(q, b'"' | b'\''))?;
                    let value_start = i + 1;
                    let value_len = s.get(value_start..)?.find(char::from(quote))?;
                    let value = s.get(value_start..value_start + value_len)?;
                    if value.contains('<') || !is_safe_attribute(attr, value) {
                        return None;
                    }
                    if attr == "xmlns" {
                        xmlns = Some(value);
                    }
                    i = value_start + value_len + 1;
                }
            }
        }
    }
}

/// No event handlers, no script URLs. Browsers ignore whitespace and case in a URL's
/// scheme and decode entities before reading it, so the scheme is read the same way, and
/// one that an entity may hide is refused.
fn is_safe_attribute(name: &str, value: &str) -> bool {
    let name = name.to_ascii_lowercase();
    if name.starts_with("on") {
        return false;
    }
    let squeezed: String = value
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .flat_map(char::to_lowercase)
        .collect();
    match name.as_str() {
        "href" | "src" | "cite" | "longdesc" | "usemap" => {
            let end = squeezed
                .find([':', '/', '?', '#'])
                .unwrap_or(squeezed.len());
            let (scheme, rest) = squeezed.split_at(end);
            !scheme.contains('&')
                && (!rest.starts_with(':')
                    || matches!(scheme, "http" | "https" | "mailto" | "tel" | "urn")
                    || (name == "src" && squeezed.starts_with("data:image/")))
        }
        "style" => !["javascript:", "expression(", "url("]
            .iter()
            .any(|bad| squeezed.contains(bad)),
        _ => true,
    }
}

/// `YYYY-MM-DD` (UTC) of a Unix time in milliseconds.
pub fn civil_date(unix_millis: u64) -> String {
    // Howard Hinnant's days-to-civil algorithm.
    let z = (unix_millis / 86_400_000) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn primitives_accept_r4_forms() {
        let cases: &[(Prim, Value)] = &[
            (Prim::Boolean, json!(false)),
            (Prim::Integer, json!(-2147483648_i64)),
            (Prim::Integer, json!(2147483647)),
            (Prim::UnsignedInt, json!(0)),
            (Prim::PositiveInt, json!(1)),
            (Prim::Decimal, json!(72.5)),
            (Prim::Decimal, json!(-3)),
            (Prim::String, json!(" Awa ")),
            (Prim::String, json!("line 1\nline 2")),
            (Prim::Code, json!("MORN.early")),
            (Prim::Code, json!("a b")),
            (Prim::Id, json!("a-B.9")),
            (Prim::Id, json!("x".repeat(64))),
            (Prim::Uri, json!("urn:ietf:bcp:47")),
            (Prim::Url, json!("https://example.org/a?b=c")),
            (
                Prim::Canonical,
                json!("http://hl7.org/fhir/StructureDefinition/x|4.0.1"),
            ),
            (Prim::Oid, json!("urn:oid:1.2.36.146.595.217.0.1")),
            (
                Prim::Uuid,
                json!("urn:uuid:c757873d-ec9a-4326-a141-556f43239520"),
            ),
            (Prim::Markdown, json!("*emphasis*")),
            (Prim::Base64Binary, json!("SGVsbG8=")),
            (Prim::Base64Binary, json!("SGVs bG8h")),
            (Prim::Date, json!("0001")),
            (Prim::Date, json!("2000-02-29")),
            (Prim::DateTime, json!("2018")),
            (Prim::DateTime, json!("1973-06")),
            (Prim::DateTime, json!("1905-08-23")),
            (Prim::DateTime, json!("2015-02-07T13:28:17-05:00")),
            (Prim::DateTime, json!("2017-01-01T00:00:00.000Z")),
            (Prim::DateTime, json!("2016-12-31T23:59:60+14:00")),
            (Prim::Instant, json!("2015-02-07T13:28:17.239+02:00")),
            (Prim::Instant, json!("2017-01-01T00:00:00Z")),
            (Prim::Time, json!("23:59:59.5")),
            (Prim::Time, json!("00:00:00")),
        ];
        for (p, v) in cases {
            assert!(p.accepts(v), "{p:?} {v}");
        }
    }

    #[test]
    fn primitives_refuse_what_r4_does_not_allow() {
        let cases: &[(Prim, Value)] = &[
            (Prim::Boolean, json!("true")),
            (Prim::Integer, json!(2147483648_i64)),
            (Prim::Integer, json!(-2147483649_i64)),
            (Prim::Integer, json!(1.5)),
            (Prim::Integer, json!("1")),
            (Prim::UnsignedInt, json!(-1)),
            (Prim::PositiveInt, json!(0)),
            (Prim::PositiveInt, json!(2147483648_u64)),
            (Prim::Decimal, json!("72.5")),
            (Prim::String, json!("")),
            (Prim::String, json!(" \t ")),
            (Prim::String, json!("bell\u{7}")),
            (Prim::String, json!(1)),
            (Prim::Code, json!("")),
            (Prim::Code, json!("a  b")),
            (Prim::Code, json!(" a")),
            (Prim::Code, json!("a ")),
            (Prim::Id, json!("")),
            (Prim::Id, json!("a_b")),
            (Prim::Id, json!("x".repeat(65))),
            (Prim::Uri, json!("")),
            (Prim::Uri, json!("http://a b")),
            (Prim::Oid, json!("urn:oid:3.1")),
            (Prim::Oid, json!("urn:oid:1")),
            (Prim::Oid, json!("urn:oid:1.02")),
            (
                Prim::Uuid,
                json!("urn:uuid:C757873D-EC9A-4326-A141-556F43239520"),
            ),
            (Prim::Uuid, json!("c757873d-ec9a-4326-a141-556f43239520")),
            (Prim::Base64Binary, json!("abc")),
            (Prim::Base64Binary, json!("ab=c")),
            (Prim::Base64Binary, json!("a===")),
            (Prim::Date, json!("0000")),
            (Prim::Date, json!("2023-02-29")),
            (Prim::Date, json!("2023-02-01T00:00:00Z")),
            (Prim::DateTime, json!("2020-01-01T10:00:00")),
            (Prim::DateTime, json!("2020-01-01T10:00Z")),
            (Prim::DateTime, json!("2020-01-01T24:00:00Z")),
            (Prim::DateTime, json!("2020-01-01T10:00:00+14:30")),
            (Prim::DateTime, json!("2020-01-01T10:00:00+15:00")),
            (Prim::DateTime, json!("2020-01-01T10:00:00.Z")),
            (Prim::DateTime, json!("2020-01T10:00:00Z")),
            (Prim::Instant, json!("2020-01-01T10:00Z")),
            (Prim::Instant, json!("2020-01-01")),
            (Prim::Instant, json!("2020-01-01T10:00:00")),
            (Prim::Time, json!("24:00:00")),
            (Prim::Time, json!("10:00")),
            (Prim::Time, json!("10:00:00Z")),
        ];
        for (p, v) in cases {
            assert!(!p.accepts(v), "{p:?} {v}");
        }
    }

    #[test]
    fn narrative_xhtml_is_held_to_the_fhir_subset() {
        let ok = [
            r#"<div xmlns="http://www.w3.org/1999/xhtml">Awa <b>Diallo</b><br/></div>"#,
            r#"<div xmlns='http://www.w3.org/1999/xhtml'><!-- c --><a href="https://x.org/?a=1&amp;b=2">x</a></div>"#,
            r##"<div xmlns="http://www.w3.org/1999/xhtml"><img src="#pic" alt=""/></div>"##,
            r#"<div xmlns="http://www.w3.org/1999/xhtml"><a href="mailto:a@example.org" title="Note: mail">a</a></div>"#,
            r#"<div xmlns="http://www.w3.org/1999/xhtml"><img src="data:image/png;base64,SGVsbG8=" alt="x"/></div>"#,
        ];
        for s in ok {
            assert!(Prim::Xhtml.accepts(&json!(s)), "{s}");
        }
        let bad = [
            "plain text",
            r#"<div>no namespace</div>"#,
            r#"<p xmlns="http://www.w3.org/1999/xhtml">not a div</p>"#,
            r#"<div xmlns="http://www.w3.org/1999/xhtml">   </div>"#,
            r#"<div xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script></div>"#,
            r#"<div xmlns="http://www.w3.org/1999/xhtml"><b onclick="alert(1)">x</b></div>"#,
            r#"<div xmlns="http://www.w3.org/1999/xhtml"><a href=" Java&#10;Script:alert(1)">x</a></div>"#,
            r#"<div xmlns="http://www.w3.org/1999/xhtml"><a href="javascript&#58;alert(1)">x</a></div>"#,
            r#"<div xmlns="http://www.w3.org/1999/xhtml"><a href="data:text/html,&lt;script&gt;">x</a></div>"#,
            r#"<div xmlns="http://www.w3.org/1999/xhtml"><p style="background: URL(https://t.example/p)">x</p></div>"#,
            r#"<div xmlns="http://www.w3.org/1999/xhtml"><b ONMOUSEOVER="x()">x</b></div>"#,
            r#"<div xmlns="http://www.w3.org/1999/xhtml"><b>unclosed</div>"#,
            r#"<div xmlns="http://www.w3.org/1999/xhtml">x</div><div>second root</div>"#,
            r#"<div xmlns="http://www.w3.org/1999/xhtml">x</div>trailing"#,
            r#"<div xmlns="http://www.w3.org/1999/xhtml"><b>x</i></div>"#,
            r#"<div xmlns="http://www.w3.org/1999/xhtml"><b title=x>unquoted</b></div>"#,
            "<div xmlns=\"http://www.w3.org/1999/xhtml\">\u{e9}<b",
        ];
        for s in bad {
            assert!(!Prim::Xhtml.accepts(&json!(s)), "{s}");
        }
    }

    /// A resource of the test's own, so that the walker is tested apart from Patient.
    static PROBE: Type = Type {
        name: "Probe",
        base: Base::DomainResource,
        elements: &[
            opt("when", DATE_TIME),
            many("tags", CODE),
            req("status", Kind::Code(&NARRATIVE_STATUS)),
            opt(
                "effective",
                Kind::Choice(&Choice {
                    types: &[DATE_TIME, Kind::Type(&PERIOD)],
                    refused: &["Timing"],
                }),
            ),
            many("part", Kind::Type(&PROBE_PART)),
        ],
        invariants: &[],
    };
    static PROBE_PART: Type = Type {
        name: "Probe.part",
        base: Base::Backbone,
        elements: &[opt("amount", Kind::Type(&MONEY))],
        invariants: &[],
    };

    fn check(v: Value) -> Vec<(IssueCode, String)> {
        let Value::Object(o) = v else {
            panic!("test data must be an object")
        };
        let mut issues: Vec<_> = check_resource(&o, &PROBE)
            .into_iter()
            .map(|i| (i.code, i.expression.unwrap_or_default()))
            .collect();
        // Sorted by expression: the order of a JSON object's keys is not the test's subject.
        issues.sort_by(|a, b| a.1.cmp(&b.1));
        issues
    }

    #[test]
    fn the_walker_checks_cardinality_choices_and_required_elements() {
        assert_eq!(
            check(json!({"resourceType": "Probe", "status": "generated"})),
            []
        );
        assert_eq!(
            check(
                json!({"tags": "a", "when": ["2020"], "effectivePeriod": {"start": "2020"},
                         "effectiveDateTime": "2020", "effectiveTiming": {}, "effectiveString": "x"})
            ),
            [
                (IssueCode::Structure, "Probe.effective".into()),
                (
                    IssueCode::NotSupported,
                    "Probe.effective.ofType(Timing)".into()
                ),
                (IssueCode::Structure, "Probe.effectiveString".into()),
                (IssueCode::Required, "Probe.status".into()),
                (IssueCode::Structure, "Probe.tags".into()),
                (IssueCode::Structure, "Probe.when".into()),
            ]
        );
        assert_eq!(
            check(json!({"status": "draft", "tags": [],
                         "part": [{"amount": {"value": "12.50", "currency": "eur"}}, {}]})),
            [
                (IssueCode::Value, "Probe.part[0].amount.currency".into()),
                (IssueCode::Value, "Probe.part[0].amount.value".into()),
                (IssueCode::Structure, "Probe.part[1]".into()),
                (IssueCode::Value, "Probe.status".into()),
                (IssueCode::Structure, "Probe.tags".into()),
            ]
        );
    }

    #[test]
    fn primitive_extensions_follow_their_primitive() {
        let ext = json!({"extension": [{"url": "http://x.org/e", "valueBoolean": true}]});
        assert_eq!(
            check(
                json!({"status": "generated", "_status": ext, "_when": ext, "_effectiveDateTime": ext,
                         "tags": ["a", null], "_tags": [null, ext]})
            ),
            []
        );
        assert_eq!(
            check(
                json!({"status": "generated", "_part": ext, "tags": ["a", null], "_tags": [ext, null],
                         "_when": {"id": "w1"}, "_effectivePeriod": ext})
            ),
            [
                (IssueCode::Structure, "Probe._effectivePeriod".into()),
                (IssueCode::Structure, "Probe._part".into()),
                (IssueCode::Structure, "Probe._when".into()),
                (IssueCode::Structure, "Probe.tags[1]".into()),
            ]
        );
        assert_eq!(
            check(json!({"status": "generated", "_tags": [ext, null], "_when": [ext]})),
            [
                (IssueCode::Structure, "Probe._tags[1]".into()),
                (IssueCode::Structure, "Probe._when".into()),
            ]
        );
    }

    #[test]
    fn hostile_bodies_are_bounded() {
        let mut many = Map::new();
        many.insert("status".into(), json!("generated"));
        for i in 0..500 {
            many.insert(format!("x{i:03}"), json!(1));
        }
        let issues = check_resource(&many, &PROBE);
        assert_eq!(issues.len(), MAX_ISSUES);
        assert!(
            issues[..MAX_ISSUES - 1]
                .iter()
                .all(|i| i.code == IssueCode::Structure)
        );
        assert_eq!(issues[MAX_ISSUES - 1].code, IssueCode::TooLong);

        let mut deep = json!({"url": "http://x.org/leaf", "valueBoolean": true});
        for _ in 0..40 {
            deep = json!({"url": "http://x.org/e", "extension": [deep]});
        }
        let issues = check(json!({"status": "generated", "extension": [deep]}));
        let expected = format!("Probe{}", ".extension[0]".repeat(MAX_DEPTH + 1));
        assert_eq!(issues, [(IssueCode::TooLong, expected)]);
    }
}
