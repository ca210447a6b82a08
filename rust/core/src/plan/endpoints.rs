//! Endpoint interning: each (method, name) pair gets a small id at plan time so the hot
//! loop indexes recorders by number instead of hashing strings.

use std::collections::HashMap;
use std::sync::{Mutex, RwLock};

/// The (method, name) pair statistics are grouped by.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EndpointKey {
    pub method: String,
    pub name: String,
}

/// Interned endpoints; ids are dense indexes starting at 0.
#[derive(Default)]
pub struct EndpointTable {
    ids: Mutex<HashMap<EndpointKey, u32>>,
    keys: RwLock<Vec<EndpointKey>>,
}

impl EndpointTable {
    /// The id of (method, name), adding it when new.
    pub fn intern(&self, method: &str, name: &str) -> u32 {
        let key = EndpointKey {
            method: method.to_owned(),
            name: name.to_owned(),
        };
        let mut ids = self.ids.lock().expect("endpoint table poisoned");
        if let Some(id) = ids.get(&key) {
            return *id;
        }
        let mut keys = self.keys.write().expect("endpoint table poisoned");
        let id = keys.len() as u32;
        keys.push(key.clone());
        ids.insert(key, id);
        id
    }

    /// The key of an interned id.
    pub fn key(&self, id: u32) -> EndpointKey {
        self.keys.read().expect("endpoint table poisoned")[id as usize].clone()
    }
}
