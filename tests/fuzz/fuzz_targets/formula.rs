//! Fuzz target `formula`: see [`meridian_fuzz::formula`] for the input format and what is checked.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    // Errors are expected answers to bad input; only a panic, a hang or runaway memory is a
    // finding.
    let _ = meridian_fuzz::formula(data);
});
