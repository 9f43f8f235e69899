//! Keeping the page state: as JSON for local storage, and deflated in a share link's URL
//! fragment (`v1.` then base64url), which never reaches a server. The JSON is the first
//! release's flat object, so old saved work and old links still load.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use miniz_oxide::inflate::TINFLStatus;

use super::{PageState, StateError};

/// Version tag of the share-link format, the part before the first `.` of a fragment.
pub(super) const FRAGMENT_VERSION: &str = "v1";

/// Largest decompressed state a share link may expand to: far above any table pasted into a
/// page, and a bound on what a crafted link (a "deflate bomb") can make the page allocate.
pub const MAX_FRAGMENT_JSON: usize = 64 << 20;

impl PageState {
    /// The state as JSON, for local storage.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect(
            "the state is strings, string-keyed maps, named enums and one f64, which always serialise",
        )
    }

    /// A state saved by [`PageState::to_json`] (or by the first release); fields it lacks take
    /// their defaults.
    ///
    /// # Errors
    /// [`StateError::Json`] for text that is not a saved state, or names a setting (an
    /// estimator, a test, a measure, a role) this version does not know.
    pub fn from_json(s: &str) -> Result<PageState, StateError> {
        serde_json::from_str(s).map_err(|e| StateError::Json {
            message: e.to_string(),
        })
    }

    /// The state for a share link's fragment: `v1.` then the JSON, deflated and in unpadded
    /// base64url, whose characters need no escaping in a URL.
    pub fn to_fragment(&self) -> String {
        let packed = miniz_oxide::deflate::compress_to_vec(self.to_json().as_bytes(), 9);
        format!("{FRAGMENT_VERSION}.{}", URL_SAFE_NO_PAD.encode(packed))
    }

    /// The state in a share link's fragment (with or without its leading `#`).
    ///
    /// # Errors
    /// [`StateError::Fragment`] for a damaged link, [`StateError::FragmentVersion`] for one of
    /// another format, [`StateError::FragmentTooLarge`] for one that inflates past
    /// [`MAX_FRAGMENT_JSON`], [`StateError::Json`] for one that holds no state.
    pub fn from_fragment(s: &str) -> Result<PageState, StateError> {
        let s = s.trim();
        let s = s.strip_prefix('#').unwrap_or(s);
        let Some((version, payload)) = s.split_once('.') else {
            return Err(StateError::Fragment {
                reason: format!("no \"{FRAGMENT_VERSION}.\" at its start"),
            });
        };
        if version != FRAGMENT_VERSION {
            return Err(StateError::FragmentVersion {
                found: version.chars().take(20).collect(),
            });
        }
        let packed = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|e| StateError::Fragment {
                reason: format!("not base64url: {e}"),
            })?;
        let json = miniz_oxide::inflate::decompress_to_vec_with_limit(&packed, MAX_FRAGMENT_JSON)
            .map_err(|e| match e.status {
            TINFLStatus::HasMoreOutput => StateError::FragmentTooLarge {
                limit: MAX_FRAGMENT_JSON,
            },
            _ => StateError::Fragment {
                reason: format!("the compressed data are damaged: {e}"),
            },
        })?;
        let json = String::from_utf8(json).map_err(|_| StateError::Fragment {
            reason: "not UTF-8 text".to_owned(),
        })?;
        PageState::from_json(&json)
    }
}
