//! JSON bytes as Go's `encoding/json` writes them, so that what we sign matches
//! what notation would sign for the same input (spec §2.1 "Exact bytes").
//!
//! Go escapes `<`, `>`, `&`, U+2028 and U+2029 inside strings. Those characters can
//! only occur inside strings in serialized JSON, so escaping the finished text is safe.

use serde::Serialize;
use serde_json::Value;

/// Compact JSON with Go's escaping. With `sort_keys`, object keys come out sorted at
/// every depth, as Go writes a `map` (the JWS protected header and payload).
pub fn to_vec<T: Serialize + ?Sized>(value: &T, sort_keys: bool) -> Vec<u8> {
    // Serializing plain data types into a Value cannot fail.
    let mut v = serde_json::to_value(value).unwrap_or(Value::Null);
    if sort_keys {
        sort(&mut v);
    }
    escape(&v.to_string()).into_bytes()
}

fn sort(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.sort_keys();
            map.values_mut().for_each(sort);
        }
        Value::Array(items) => items.iter_mut().for_each(sort),
        _ => {}
    }
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn sorts_and_escapes_like_go() {
        let v = json!({"b": {"z": 1, "a": "<&>\u{2028}"}, "a": [ {"y": 1, "x": 2} ]});
        assert_eq!(
            String::from_utf8(super::to_vec(&v, true)).unwrap(),
            r#"{"a":[{"x":2,"y":1}],"b":{"a":"\u003c\u0026\u003e\u2028","z":1}}"#
        );
        assert_eq!(
            String::from_utf8(super::to_vec(&v, false)).unwrap(),
            r#"{"b":{"z":1,"a":"\u003c\u0026\u003e\u2028"},"a":[{"y":1,"x":2}]}"#
        );
    }
}
