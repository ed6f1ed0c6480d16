//! Everything about the visitor's language, in one place: which locale a request is served
//! in ([`locale`]: negotiation, directions, autonyms) and the translated messages of that
//! locale (`messages`: Fluent, CLDR plurals; [`message`], [`message_plain`]).
//!
//! The two halves used to be sibling modules that called each other; here `locale` knows
//! nothing of Fluent except the two facts each locale's files declare about themselves
//! (direction and autonym), which it asks of `messages`.

pub mod locale;
mod messages;

pub use messages::{Arg, message, message_plain};
