//! Compiled templates of Python-task requests, reused across calls: a task that calls the
//! same method on the same URL with the same headers pays for URL parsing, endpoint
//! interning and header validation once, not once per call. Only the body changes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::error;
use crate::plan::{template, Template};
use crate::proto;
use crate::shared::Shared;

/// Distinct request shapes kept; beyond this (URLs with ids in them) the cache starts over.
const MAX_ENTRIES: usize = 4096;

/// Everything but the body that decides how a request compiles.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TemplateKey {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub name: String,
    pub protocol: i32,
    pub timeout: Option<Duration>,
}

impl TemplateKey {
    /// Compiles the request this key describes, with `body`; `keep_body` keeps response
    /// bodies for the caller.
    pub fn compile(
        &self,
        shared: &Shared,
        body: Vec<u8>,
        keep_body: bool,
    ) -> error::Result<Arc<Template>> {
        let msg = proto::RequestTemplate {
            method: self.method.clone(),
            url: self.url.clone(),
            headers: self
                .headers
                .iter()
                .map(|(name, value)| proto::Header {
                    name: name.clone(),
                    value: value.clone(),
                })
                .collect(),
            body,
            name: self.name.clone(),
            check: None,
            keep_body,
            protocol: self.protocol,
        };
        let opts = template::EncodeOptions {
            grpc_timeout: self.timeout,
            ..shared.plan.encode
        };
        template::compile(&msg, &shared.targets, &shared.endpoints, opts)
    }
}

/// Templates by key.
#[derive(Default)]
pub struct TemplateCache {
    entries: Mutex<HashMap<TemplateKey, Arc<Template>>>,
}

impl TemplateCache {
    /// The cached template for `key`, or the one `compile` makes (then kept).
    pub fn get_or_compile<E>(
        &self,
        key: TemplateKey,
        compile: impl FnOnce(&TemplateKey) -> Result<Arc<Template>, E>,
    ) -> Result<Arc<Template>, E> {
        if let Some(found) = self.lock().get(&key) {
            return Ok(found.clone());
        }
        let compiled = compile(&key)?;
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(key, compiled.clone());
        Ok(compiled)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TemplateKey, Arc<Template>>> {
        self.entries.lock().expect("template cache poisoned")
    }
}
