//! JSON parameters → typed Postgres values, checked against the catalog's declarations.
//!
//! Statements are prepared with the declared types (`prepare_typed`), so what reaches
//! Postgres is always a typed bind value, never text spliced into SQL; a value of the wrong
//! JSON type is refused here, with the statement index and parameter name, before any
//! round trip.

use serde_json::Value;
use telemed_shared::dataplane::{
    catalog::{ParamType, Statement},
    wire::{ErrorCode, RegionError},
};
use tokio_postgres::types::{ToSql, Type};

/// One bind value.
pub type SqlParam = Box<dyn ToSql + Sync + Send>;

/// The Postgres type a parameter is prepared with.
pub fn pg_type(ty: ParamType) -> Type {
    match ty {
        ParamType::Text => Type::TEXT,
        ParamType::Int8 => Type::INT8,
        ParamType::Uuid => Type::UUID,
        ParamType::Jsonb => Type::JSONB,
        ParamType::Bool => Type::BOOL,
        ParamType::Timestamptz => Type::TIMESTAMPTZ,
        ParamType::Sealed | ParamType::AppWebhookSecret => Type::BYTEA,
        ParamType::BlindToken | ParamType::Password => Type::TEXT,
        ParamType::BlindTokens | ParamType::Rows(_) => Type::JSONB,
    }
}

/// The declared types of `stmt`'s parameters, in order.
pub fn pg_types(stmt: &Statement) -> Vec<Type> {
    stmt.params.iter().map(|p| pg_type(p.ty)).collect()
}

/// Converts the JSON parameters of call number `index` to bind values, or says which
/// parameter is wrong and why. Values the vault protects must have been through
/// [`crate::vault::protect`]: a sealed value is then base64 of its ciphertext; passwords
/// through [`crate::passwords::protect`]: a password is then its argon2id hash.
pub fn convert(
    stmt: &Statement,
    index: usize,
    values: &[Value],
) -> Result<Vec<SqlParam>, RegionError> {
    let bad = |msg: String| RegionError::new(ErrorCode::BadRequest, msg).at(index);
    if values.len() != stmt.params.len() {
        return Err(bad(format!(
            "statement {index} ({}) takes {} parameter(s), got {}",
            stmt.name,
            stmt.params.len(),
            values.len()
        )));
    }
    stmt.params
        .iter()
        .zip(values)
        .map(|(param, value)| {
            let wrong = |expected: &str| {
                bad(format!(
                    "statement {index} ({}): parameter `{}` must be {expected}",
                    stmt.name, param.name
                ))
            };
            if value.is_null() {
                if !param.nullable {
                    return Err(wrong("present (it is not nullable)"));
                }
                return Ok(null_of(param.ty));
            }
            Ok(match param.ty {
                ParamType::Text => Box::new(Some(
                    value.as_str().ok_or_else(|| wrong("a string"))?.to_owned(),
                )) as SqlParam,
                ParamType::Int8 => Box::new(Some(
                    value
                        .as_i64()
                        .ok_or_else(|| wrong("an integer within i64"))?,
                )),
                ParamType::Uuid => {
                    let s = value.as_str().ok_or_else(|| wrong("a UUID string"))?;
                    Box::new(Some(
                        uuid::Uuid::parse_str(s).map_err(|_| wrong("a valid UUID"))?,
                    ))
                }
                ParamType::Jsonb | ParamType::BlindTokens | ParamType::Rows(_) => {
                    Box::new(Some(value.clone()))
                }
                ParamType::BlindToken => Box::new(Some(
                    value.as_str().ok_or_else(|| wrong("a string"))?.to_owned(),
                )),
                // Hashed by `passwords::protect` before this point. Anything else would be
                // a password in clear about to be stored: refused (and it is not quoted).
                ParamType::Password => {
                    let hash = value
                        .as_str()
                        .filter(|h| h.starts_with("$argon2id$"))
                        .ok_or_else(|| wrong("hashed by the region"))?;
                    Box::new(Some(hash.to_owned()))
                }
                ParamType::Sealed | ParamType::AppWebhookSecret => {
                    use base64::Engine;
                    let b64 = value.as_str().ok_or_else(|| wrong("sealed"))?;
                    Box::new(Some(
                        base64::engine::general_purpose::STANDARD
                            .decode(b64)
                            .map_err(|_| wrong("sealed"))?,
                    ))
                }
                ParamType::Bool => {
                    Box::new(Some(value.as_bool().ok_or_else(|| wrong("a boolean"))?))
                }
                ParamType::Timestamptz => {
                    let s = value
                        .as_str()
                        .ok_or_else(|| wrong("an RFC 3339 instant string"))?;
                    Box::new(Some(
                        chrono::DateTime::parse_from_rfc3339(s)
                            .map_err(|_| wrong("an RFC 3339 instant"))?,
                    ))
                }
            })
        })
        .collect()
}

/// SQL NULL of the declared type (the type matters to the typed statement).
fn null_of(ty: ParamType) -> SqlParam {
    match ty {
        ParamType::Text => Box::new(None::<String>),
        ParamType::Int8 => Box::new(None::<i64>),
        ParamType::Uuid => Box::new(None::<uuid::Uuid>),
        ParamType::Jsonb | ParamType::BlindTokens | ParamType::Rows(_) => Box::new(None::<Value>),
        ParamType::Sealed | ParamType::AppWebhookSecret => Box::new(None::<Vec<u8>>),
        ParamType::BlindToken | ParamType::Password => Box::new(None::<String>),
        ParamType::Bool => Box::new(None::<bool>),
        ParamType::Timestamptz => Box::new(None::<chrono::DateTime<chrono::FixedOffset>>),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use telemed_shared::dataplane::catalog::{lookup, names};

    use super::*;

    fn err(name: &str, params: Value) -> RegionError {
        let stmt = lookup(name).unwrap();
        convert(stmt, 3, params.as_array().unwrap()).expect_err("should be refused")
    }

    #[test]
    fn well_typed_params_convert() {
        let create = lookup(names::PATIENT_CREATE).unwrap();
        let v =
            json!([{"resourceType": "Patient"}, "Dupont", null, "1980-01-02", "female", null, []]);
        assert_eq!(convert(create, 0, v.as_array().unwrap()).unwrap().len(), 7);
        let search = lookup(names::PATIENT_SEARCH).unwrap();
        let v = json!([null, "dup", null, null, null, null, 20]);
        assert_eq!(convert(search, 0, v.as_array().unwrap()).unwrap().len(), 7);
        let read = lookup(names::PATIENT_READ).unwrap();
        let v = json!(["5f0c7a52-8a3e-4b8e-9c59-1f0e1b2f9a10"]);
        assert!(convert(read, 0, v.as_array().unwrap()).is_ok());
    }

    #[test]
    fn wrong_params_name_the_statement_and_parameter() {
        let e = err(names::PATIENT_READ, json!(["not-a-uuid"]));
        assert_eq!((e.code, e.statement), (ErrorCode::BadRequest, Some(3)));
        assert!(
            e.message.contains("`id`") && e.message.contains("UUID"),
            "{}",
            e.message
        );

        let e = err(names::PATIENT_READ, json!([42]));
        assert!(e.message.contains("UUID string"), "{}", e.message);

        let e = err(
            names::PATIENT_SEARCH,
            json!([null, null, null, null, null, null, "20"]),
        );
        assert!(
            e.message.contains("`limit`") && e.message.contains("integer"),
            "{}",
            e.message
        );

        let e = err(
            names::PATIENT_SEARCH,
            json!([null, null, null, null, null, null, 1.5]),
        );
        assert!(e.message.contains("`limit`"), "{}", e.message);

        let e = err(
            names::PATIENT_SEARCH,
            json!([null, null, null, null, null, null, null]),
        );
        assert!(e.message.contains("not nullable"), "{}", e.message);

        let e = err(
            names::PATIENT_CREATE,
            json!([null, null, null, null, null, null, null]),
        );
        assert!(e.message.contains("`resource`"), "{}", e.message);

        let e = err(
            names::PATIENT_CREATE,
            json!([{}, 7, null, null, null, null, null]),
        );
        assert!(
            e.message.contains("`family`") && e.message.contains("string"),
            "{}",
            e.message
        );

        let e = err(names::PATIENT_READ, json!([]));
        assert!(
            e.message.contains("takes 1 parameter(s), got 0"),
            "{}",
            e.message
        );
    }

    #[test]
    fn declared_types_are_what_statements_are_prepared_with() {
        let search = lookup(names::PATIENT_SEARCH).unwrap();
        assert_eq!(
            pg_types(search),
            [
                Type::INT8,
                Type::TEXT,
                Type::TEXT,
                Type::TEXT,
                Type::TEXT,
                Type::UUID,
                Type::INT8
            ]
        );
        assert_eq!(pg_type(ParamType::Uuid), Type::UUID);
        assert_eq!(pg_type(ParamType::Jsonb), Type::JSONB);
    }
}
