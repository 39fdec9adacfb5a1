//! What the routes share: who this instance is, signed-in sessions and the item store.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::Serialize;

/// The app's shared state; cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    instance_id: String,
    grandchild_pid: Option<u32>,
    sessions: Mutex<HashMap<String, String>>,
    items: Mutex<Items>,
}

/// The in-memory store behind `/api/items`.
#[derive(Debug, Default)]
pub(crate) struct Items {
    next_id: u64,
    by_id: BTreeMap<u64, Item>,
}

/// One stored item, as `/api/items` serves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Item {
    /// Assigned on creation, starting at 1.
    pub id: u64,
    /// Whatever the client sent.
    pub name: String,
}

impl AppState {
    /// State for an instance called `instance_id`, with no sessions and no items.
    pub fn new(instance_id: impl Into<String>) -> Self {
        Self::with_grandchild(instance_id, None)
    }

    /// Like [`AppState::new`], also reporting the pid of a spawned grandchild in `/whoami`.
    pub fn with_grandchild(instance_id: impl Into<String>, grandchild_pid: Option<u32>) -> Self {
        Self {
            inner: Arc::new(Inner {
                instance_id: instance_id.into(),
                grandchild_pid,
                sessions: Mutex::default(),
                items: Mutex::default(),
            }),
        }
    }

    /// The id `/whoami` and `/health` report.
    pub fn instance_id(&self) -> &str {
        &self.inner.instance_id
    }

    /// The pid of the grandchild spawned by `--spawn-grandchild`, if any.
    pub fn grandchild_pid(&self) -> Option<u32> {
        self.inner.grandchild_pid
    }

    /// The signed-in sessions: session id to user name.
    pub(crate) fn sessions(&self) -> MutexGuard<'_, HashMap<String, String>> {
        lock(&self.inner.sessions)
    }

    /// The item store.
    pub(crate) fn items(&self) -> MutexGuard<'_, Items> {
        lock(&self.inner.items)
    }
}

impl Items {
    /// Every item, by id.
    pub(crate) fn list(&self) -> Vec<Item> {
        self.by_id.values().cloned().collect()
    }

    /// Stores a new item and returns it with its id.
    pub(crate) fn create(&mut self, name: String) -> Item {
        self.next_id += 1;
        let item = Item {
            id: self.next_id,
            name,
        };
        self.by_id.insert(item.id, item.clone());
        item
    }

    /// The item with this id.
    pub(crate) fn get(&self, id: u64) -> Option<Item> {
        self.by_id.get(&id).cloned()
    }

    /// Renames an existing item.
    pub(crate) fn update(&mut self, id: u64, name: String) -> Option<Item> {
        let item = self.by_id.get_mut(&id)?;
        item.name = name;
        Some(item.clone())
    }

    /// Removes an item, returning it.
    pub(crate) fn delete(&mut self, id: u64) -> Option<Item> {
        self.by_id.remove(&id)
    }
}

/// Locks `mutex`, carrying on after a panic elsewhere: the maps stay usable.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
