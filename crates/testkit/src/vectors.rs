//! The js-waku test vectors each protocol crate copies into its own
//! `tests/vectors/`: a JSON object whose `section` holds a list of cases,
//! each with a `name`.

use serde_json::Value;

/// The case called `name` in list `section` of the JSON text `all`; panics
/// naming the case when there is none.
pub fn case(all: &str, section: &str, name: &str) -> Value {
    let all: Value = serde_json::from_str(all).unwrap();
    all[section]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no vector {name}"))
        .clone()
}

/// The bytes of hex field `field` of a case (see [`case`]).
pub fn case_bytes(all: &str, section: &str, name: &str, field: &str) -> Vec<u8> {
    hex::decode(case(all, section, name)[field].as_str().unwrap()).unwrap()
}
