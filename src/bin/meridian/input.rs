//! Reading the table a subcommand analyses: a file, or stdin for `-`, as text.

use std::ffi::OsString;
use std::io::Read;

use super::options::Failure;

/// File bytes to text: UTF-8, or else Latin-1 (what older spreadsheet exports write), which
/// maps every byte to a character; binary files are caught by the NUL check of the parser.
fn decode(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes)
        .unwrap_or_else(|e| e.into_bytes().iter().map(|&b| char::from(b)).collect())
}

/// The text of `file` (`-` for stdin).
pub fn read_input(file: &OsString) -> Result<String, Failure> {
    let shown = file.to_string_lossy();
    let result = if file == "-" {
        let mut bytes = Vec::new();
        std::io::stdin().read_to_end(&mut bytes).map(|_| bytes)
    } else {
        // Sized from the file's length at once, not grown (and copied) by doubling.
        std::fs::read(file)
    };
    let bytes = result.map_err(|e| Failure::Data(format!("{shown}: cannot read the file: {e}")))?;
    Ok(decode(bytes))
}
