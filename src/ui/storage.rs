//! Keeping work safe in the browser: the session in localStorage, and in the URL fragment for
//! sharing (a fragment never reaches a server).

use leptos::prelude::window;

use crate::data::session::Session;

/// localStorage key of the saved session; the suffix changes if the format ever does.
const KEY: &str = "meridian.session.v1";
/// The fragment prefix of a shared session: `#s=<encoded>`.
const FRAGMENT: &str = "#s=";

/// The session to start with: a shared link first, then the saved work, then the BCG example.
pub fn initial_session() -> Session {
    if let Some(session) = from_location() {
        return session;
    }
    storage()
        .and_then(|s| s.get_item(KEY).ok().flatten())
        .and_then(|json| Session::from_json(&json).ok())
        .unwrap_or_default()
}

/// A session from `#s=…`, after which the fragment is removed so that later edits (saved
/// locally) are not undone by a reload of the stale link.
fn from_location() -> Option<Session> {
    let location = window().location();
    let hash = location.hash().ok()?;
    let encoded = hash.strip_prefix(FRAGMENT)?;
    let session = Session::from_fragment(encoded).ok();
    if let (Ok(history), Ok(path)) = (window().history(), location.pathname()) {
        // Losing the fragment only costs a reload of the shared state; nothing to report.
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&path));
    }
    session
}

fn storage() -> Option<web_sys::Storage> {
    window().local_storage().ok().flatten()
}

/// Saves the session. Storage can be full or disabled (private windows); the app still works,
/// it just will not remember.
pub fn save(session: &Session) {
    if let Some(storage) = storage() {
        let _ = storage.set_item(KEY, &session.to_json());
    }
}

/// Forgets the saved session.
pub fn clear() {
    if let Some(storage) = storage() {
        let _ = storage.remove_item(KEY);
    }
}

/// A link that opens this session: this page's address with the session in the fragment.
pub fn share_url(session: &Session) -> Option<String> {
    let location = window().location();
    let origin = location.origin().ok()?;
    let path = location.pathname().ok()?;
    Some(format!("{origin}{path}{FRAGMENT}{}", session.to_fragment()))
}
