//! Share links: a page state survives the trip through a URL fragment, links stay short enough
//! to share, and no damaged or hostile fragment makes `PageState::from_fragment` panic.

use meridian::app::{PageState, StateError};
use meridian::stats::Test;
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

/// Characters a URL fragment may carry without escaping, `.` and `#` included, so garbage
/// also reaches the base64 and deflate stages.
const FRAGMENT_CHARS: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.#~v1%";

/// A table of 200 studies with labels that need quoting (commas, quotes) and four moderators.
fn table_200() -> String {
    let mut rng = ChaCha8Rng::seed_from_u64(200);
    let mut unit = || f64::from(rng.next_u32()) / f64::from(u32::MAX);
    let mut text = String::from("study,yi,vi,dose,year,region,\"mean age\"\n");
    for i in 1..=200 {
        let region = ["Europe", "Asia", "Americas", "Africa"][i % 4];
        text += &format!(
            "\"Study {i}, \"\"arm B\"\"\",{:.4},{:.5},{:.1},{},{region},{:.1}\n",
            unit() - 0.3,
            0.01 + unit() / 10.0,
            unit() * 50.0,
            1980 + i % 40,
            40.0 + unit() * 30.0,
        );
    }
    text
}

#[test]
fn bcg_session_round_trips_through_a_short_fragment() {
    let mut s = PageState::default();
    let plain = s.to_fragment();
    s.model.set_moderator("ablat", true, false);
    s.model.set_moderator("alloc", true, true);
    s.model.references.insert("alloc".into(), "random".into());
    s.model.test = Test::KnappHartung;
    s.model.predict_at.insert("ablat".into(), "40".into());
    let fragment = s.to_fragment();
    eprintln!(
        "BCG fragment: {} characters (default session), {} (ablat + factor(alloc), knha); JSON {}",
        plain.len(),
        fragment.len(),
        s.to_json().len()
    );
    assert!(fragment.starts_with("v1."));
    assert!(fragment.len() < 1000, "{}", fragment.len());
    assert!(fragment[3..]
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    assert_eq!(PageState::from_fragment(&fragment).unwrap(), s);
    assert_eq!(
        PageState::from_fragment(&format!("#{fragment}")).unwrap(),
        s
    );
    assert_eq!(
        PageState::from_fragment(&plain).unwrap(),
        PageState::default()
    );
}

#[test]
fn a_200_study_table_round_trips() {
    let mut s = PageState::default();
    s.load_text(table_200());
    s.model.set_moderator("dose", true, false);
    s.model.set_moderator("region", true, true);
    s.model.set_moderator("mean age", true, false);
    assert_eq!(s.model.formula, "dose + factor(region) + `mean age`");
    let a = s.analyse().unwrap().analysis;
    assert_eq!((a.summary.k, a.summary.p), (200, 6));
    assert_eq!(&a.studies().labels[0], "Study 1, \"arm B\"");
    let fragment = s.to_fragment();
    eprintln!(
        "200-study fragment: {} characters (data {} bytes, JSON {})",
        fragment.len(),
        s.data.text.len(),
        s.to_json().len()
    );
    // Deflate must at least halve the base64 of the JSON, or the link would be longer than
    // the data it carries.
    assert!(fragment.len() < s.to_json().len() * 4 / 3 / 2);
    assert_eq!(PageState::from_fragment(&fragment).unwrap(), s);
}

#[test]
fn wrong_versions_and_shapes_are_named() {
    let cases = [
        ("", "no \"v1.\" at its start"),
        ("v1", "no \"v1.\" at its start"),
        ("v1.", "the compressed data are damaged"),
        ("v1.!!!", "not base64url"),
        ("v1.AAAA", "the compressed data are damaged"),
    ];
    for (fragment, reason) in cases {
        match PageState::from_fragment(fragment) {
            Err(StateError::Fragment { reason: r }) => {
                assert!(r.starts_with(reason), "{fragment:?}: {r}")
            }
            other => panic!("{fragment:?}: {other:?}"),
        }
    }
    let e = PageState::from_fragment("v2.AAAA").unwrap_err();
    assert_eq!(
        e.to_string(),
        "the link holds a session in format \"v2\": expected \"v1\" (it may come from a newer version of the app)"
    );
    // Valid compression around something that is not a session.
    let not_a_session = format!(
        "v1.{}",
        base64_of_deflate(b"[1, 2, 3]") // a JSON array, not an object
    );
    assert!(matches!(
        PageState::from_fragment(&not_a_session),
        Err(StateError::Json { .. })
    ));
}

/// What `to_fragment` does, for building fragments around arbitrary payloads.
fn base64_of_deflate(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(miniz_oxide::deflate::compress_to_vec(bytes, 9))
}

#[test]
fn garbage_fragments_are_errors_not_panics() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    for _ in 0..2000 {
        let len = (rng.next_u32() % 300) as usize;
        let text: String = (0..len)
            .map(|_| char::from(FRAGMENT_CHARS[rng.next_u32() as usize % FRAGMENT_CHARS.len()]))
            .collect();
        let prefixed = format!("v1.{}", text.replace('.', ""));
        assert!(PageState::from_fragment(&text).is_err(), "{text}");
        assert!(PageState::from_fragment(&prefixed).is_err(), "{prefixed}");
    }
    // Arbitrary bytes, validly encoded: the inflater and the JSON reader must reject them.
    for _ in 0..500 {
        let mut bytes = vec![0u8; (rng.next_u32() % 200) as usize];
        rng.fill_bytes(&mut bytes);
        let raw = format!("v1.{}", {
            use base64::Engine as _;
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes)
        });
        assert!(PageState::from_fragment(&raw).is_err());
        assert!(PageState::from_fragment(&format!("v1.{}", base64_of_deflate(&bytes))).is_err());
    }
}

#[test]
fn damaged_links_fail_cleanly() {
    let fragment = PageState::default().to_fragment();
    // Cut short, as a link broken across lines in an e-mail.
    for end in 0..fragment.len() {
        assert!(PageState::from_fragment(&fragment[..end]).is_err(), "{end}");
    }
    // One character changed: an error, or (rarely) another readable session — never a panic.
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let mut errors = 0;
    for _ in 0..500 {
        let mut bytes = fragment.clone().into_bytes();
        let at = 3 + rng.next_u32() as usize % (bytes.len() - 3);
        bytes[at] = FRAGMENT_CHARS[rng.next_u32() as usize % 64];
        let changed = String::from_utf8(bytes).expect("ASCII in, ASCII out");
        errors += usize::from(PageState::from_fragment(&changed).is_err());
    }
    assert!(errors > 400, "{errors}");
}
