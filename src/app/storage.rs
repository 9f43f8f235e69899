//! The browser's side of keeping work: the state in local storage, and in the URL fragment
//! for sharing (a fragment never reaches a server).

use leptos::prelude::window;

use super::PageState;

/// localStorage key of the saved state; the suffix changes if the format ever does.
const KEY: &str = "meridian.session.v1";
/// The fragment prefix of a shared state: `#s=<encoded>`.
const FRAGMENT: &str = "#s=";

/// The state to start with: a shared link first, then the saved work, then the BCG example.
pub fn initial_state() -> PageState {
    if let Some(state) = from_location() {
        return state;
    }
    storage()
        .and_then(|s| s.get_item(KEY).ok().flatten())
        .and_then(|json| PageState::from_json(&json).ok())
        .unwrap_or_default()
}

/// A state from `#s=…`, after which the fragment is removed so that later edits (saved
/// locally) are not undone by a reload of the stale link.
fn from_location() -> Option<PageState> {
    let location = window().location();
    let hash = location.hash().ok()?;
    let encoded = hash.strip_prefix(FRAGMENT)?;
    let state = PageState::from_fragment(encoded).ok();
    if let (Ok(history), Ok(path)) = (window().history(), location.pathname()) {
        // Losing the fragment only costs a reload of the shared state; nothing to report.
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&path));
    }
    state
}

fn storage() -> Option<web_sys::Storage> {
    window().local_storage().ok().flatten()
}

/// Saves the state. Storage can be full or disabled (private windows); the app still works,
/// it just will not remember.
pub fn save(state: &PageState) {
    if let Some(storage) = storage() {
        let _ = storage.set_item(KEY, &state.to_json());
    }
}

/// Forgets the saved state.
pub fn clear() {
    if let Some(storage) = storage() {
        let _ = storage.remove_item(KEY);
    }
}

/// A link that opens this state: this page's address with the state in the fragment.
pub fn share_url(state: &PageState) -> Option<String> {
    let location = window().location();
    let origin = location.origin().ok()?;
    let path = location.pathname().ok()?;
    Some(format!("{origin}{path}{FRAGMENT}{}", state.to_fragment()))
}
