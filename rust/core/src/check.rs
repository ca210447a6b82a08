//! Response checks: which statuses count as success, and optional body / JSON assertions.

use bytes::Bytes;

use crate::proto;
use crate::recorder::ErrorKind;

/// A compiled `Check` message.
#[derive(Debug, Default, Clone)]
pub struct Check {
    /// Accepted statuses; empty means any status below 400.
    statuses: Vec<u16>,
    body_contains: Option<Bytes>,
    json_path: Option<Vec<String>>,
    json_equals: Option<serde_json::Value>,
}

impl Check {
    /// Compiles a check; `Err` names what is wrong with it.
    pub fn compile(msg: Option<&proto::Check>) -> Result<Self, String> {
        let Some(msg) = msg else {
            return Ok(Self::default());
        };
        let statuses = msg
            .status
            .iter()
            .map(|s| u16::try_from(*s).map_err(|_| format!("invalid status {s} in check")))
            .collect::<Result<Vec<u16>, String>>()?;
        let json_path = (!msg.json_path.is_empty())
            .then(|| msg.json_path.split('.').map(str::to_owned).collect());
        let json_equals = if msg.json_equals.is_empty() {
            None
        } else {
            let v = serde_json::from_str(&msg.json_equals)
                .map_err(|e| format!("json_equals is not JSON: {e}"))?;
            Some(v)
        };
        Ok(Self {
            statuses,
            body_contains: (!msg.body_contains.is_empty())
                .then(|| Bytes::copy_from_slice(&msg.body_contains)),
            json_path,
            json_equals,
        })
    }

    /// Whether the body must be kept to evaluate this check.
    pub fn needs_body(&self) -> bool {
        self.body_contains.is_some() || self.json_path.is_some()
    }

    /// Whether `status` is a success by itself.
    pub fn status_ok(&self, status: u16) -> bool {
        if self.statuses.is_empty() {
            status < 400
        } else {
            self.statuses.contains(&status)
        }
    }

    /// Evaluates the response; `Err` carries the error kind and why.
    pub fn evaluate(&self, status: u16, body: &[u8]) -> Result<(), (ErrorKind, String)> {
        if !self.status_ok(status) {
            return Err((ErrorKind::HttpStatus, format!("HTTP status {status}")));
        }
        if let Some(needle) = &self.body_contains {
            if !contains(body, needle) {
                return Err((
                    ErrorKind::CheckFailed,
                    format!(
                        "body does not contain {:?}",
                        String::from_utf8_lossy(needle)
                    ),
                ));
            }
        }
        if let Some(path) = &self.json_path {
            let doc: serde_json::Value = serde_json::from_slice(body)
                .map_err(|e| (ErrorKind::CheckFailed, format!("body is not JSON: {e}")))?;
            let found = lookup(&doc, path).ok_or_else(|| {
                (
                    ErrorKind::CheckFailed,
                    format!("JSON path {:?} not found", path.join(".")),
                )
            })?;
            if let Some(expected) = &self.json_equals {
                if found != expected {
                    return Err((
                        ErrorKind::CheckFailed,
                        format!(
                            "JSON path {:?} is {found}, expected {expected}",
                            path.join(".")
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

/// Follows a dotted path; numeric segments index arrays.
fn lookup<'a>(doc: &'a serde_json::Value, path: &[String]) -> Option<&'a serde_json::Value> {
    path.iter().try_fold(doc, |v, seg| match v {
        serde_json::Value::Object(map) => map.get(seg),
        serde_json::Value::Array(items) => seg.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(path: &str, equals: &str) -> Check {
        Check::compile(Some(&proto::Check {
            status: vec![],
            body_contains: vec![],
            json_path: path.into(),
            json_equals: equals.into(),
        }))
        .unwrap()
    }

    #[test]
    fn json_path_with_array_index() {
        let c = check("result.items.1.label", "\"cat\"");
        let body = br#"{"result":{"items":[{"label":"dog"},{"label":"cat"}]}}"#;
        assert!(c.evaluate(200, body).is_ok());
        let wrong = br#"{"result":{"items":[{"label":"dog"},{"label":"cow"}]}}"#;
        assert_eq!(
            c.evaluate(200, wrong).unwrap_err().0,
            ErrorKind::CheckFailed
        );
    }

    #[test]
    fn default_status_rule() {
        let c = Check::default();
        assert!(c.evaluate(399, b"").is_ok());
        assert_eq!(c.evaluate(500, b"").unwrap_err().0, ErrorKind::HttpStatus);
    }
}
