//! Elements kept out of the stored resource, sealed apart: national identifiers.
//!
//! A resource with a sealed column ([`super::resource::Column::sealed`]) names, in its
//! index, the array items to seal: `{"identifier": [[0, {…}], [2, {…}]]}` (element → its
//! items with their positions). They are taken out of the `resource` jsonb before it is
//! stored ([`strip`]), travel to the region as a [`crate::dataplane::catalog::ParamType::Sealed`]
//! parameter that the region encrypts with the clinic's data key, and are put back at
//! their positions when a row is read ([`restore`]), so clients read exactly what they
//! wrote while the database holds only ciphertext.

use serde_json::{Map, Value, json};

/// The payload of `element`'s items `picks` (position, item); `null` when there are none,
/// so a resource without any stores no ciphertext at all.
pub fn payload(element: &str, picks: Vec<(usize, Value)>) -> Value {
    if picks.is_empty() {
        return Value::Null;
    }
    let items: Vec<Value> = picks.into_iter().map(|(i, v)| json!([i, v])).collect();
    json!({ element: items })
}

/// The (position, item) pairs of `element` in `payload`, in ascending position.
fn items<'a>(payload: &'a Value, element: &str) -> Vec<(usize, &'a Value)> {
    let mut out: Vec<(usize, &Value)> = payload
        .get(element)
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice)
        .iter()
        .filter_map(|pair| {
            let pair = pair.as_array()?;
            let at = usize::try_from(pair.first()?.as_u64()?).ok()?;
            Some((at, pair.get(1)?))
        })
        .collect();
    out.sort_by_key(|(at, _)| *at);
    out
}

/// Takes the items of `payload` out of `obj` (an element left empty is removed, as FHIR
/// has no empty arrays).
pub fn strip(obj: &mut Map<String, Value>, payload: &Value) {
    let Some(elements) = payload.as_object() else {
        return;
    };
    for element in elements.keys() {
        let positions: Vec<usize> = items(payload, element).iter().map(|(i, _)| *i).collect();
        let Some(Value::Array(array)) = obj.get_mut(element) else {
            continue;
        };
        for at in positions.into_iter().rev() {
            if at < array.len() {
                array.remove(at);
            }
        }
        if array.is_empty() {
            obj.remove(element);
        }
    }
}

/// Puts the items of `payload` back into `obj` at their positions: the inverse of
/// [`strip`].
pub fn restore(obj: &mut Map<String, Value>, payload: &Value) {
    let Some(elements) = payload.as_object() else {
        return;
    };
    for element in elements.keys() {
        let entry = obj
            .entry(element.clone())
            .or_insert_with(|| Value::Array(Vec::new()));
        let Value::Array(array) = entry else {
            continue;
        };
        for (at, item) in items(payload, element) {
            array.insert(at.min(array.len()), item.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn strip_then_restore_gives_back_the_resource() {
        let original = obj(json!({
            "identifier": [{"value": "a"}, {"value": "nir"}, {"value": "b"}, {"value": "ssn"}],
            "gender": "female"
        }));
        let picks = vec![(1, json!({"value": "nir"})), (3, json!({"value": "ssn"}))];
        let sealed = payload("identifier", picks);
        let mut stored = original.clone();
        strip(&mut stored, &sealed);
        assert_eq!(
            Value::Object(stored.clone()),
            json!({"identifier": [{"value": "a"}, {"value": "b"}], "gender": "female"})
        );
        restore(&mut stored, &sealed);
        assert_eq!(stored, original);
    }

    #[test]
    fn an_element_made_only_of_sealed_items_disappears_and_comes_back() {
        let original = obj(json!({"identifier": [{"value": "nir"}]}));
        let sealed = payload("identifier", vec![(0, json!({"value": "nir"}))]);
        let mut stored = original.clone();
        strip(&mut stored, &sealed);
        assert!(stored.is_empty());
        restore(&mut stored, &sealed);
        assert_eq!(stored, original);
    }

    #[test]
    fn nothing_to_seal_is_null_and_changes_nothing() {
        let sealed = payload("identifier", Vec::new());
        assert_eq!(sealed, Value::Null);
        let mut o = obj(json!({"identifier": [{"value": "a"}]}));
        strip(&mut o, &sealed);
        restore(&mut o, &sealed);
        assert_eq!(Value::Object(o), json!({"identifier": [{"value": "a"}]}));
    }
}
