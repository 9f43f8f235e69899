//! Every bundled example in `assets/examples/index.json` fits from the command line with the
//! settings the index suggests, and the index's own description is consistent with the file.

mod common;

use common::run_cli;
use serde_json::Value;

#[test]
fn every_example_fits_as_the_index_suggests() {
    let index: Value =
        serde_json::from_str(&std::fs::read_to_string("assets/examples/index.json").unwrap())
            .unwrap();
    let examples = index["examples"].as_array().unwrap();
    assert!(examples.len() >= 4);
    for e in examples {
        let file = format!("assets/examples/{}", e["file"].as_str().unwrap());
        let mut args = vec!["fit".to_owned(), file.clone(), "--json".to_owned()];
        if let Some(m) = e["measure"].as_str() {
            args.extend(["--measure".to_owned(), m.to_owned()]);
        }
        for (role, column) in e["columns"].as_object().unwrap() {
            args.extend([format!("--{role}"), column.as_str().unwrap().to_owned()]);
        }
        args.extend(["--slab".to_owned(), e["slab"].as_str().unwrap().to_owned()]);
        if let Some(mods) = e["mods"].as_str() {
            args.extend(["--mods".to_owned(), mods.to_owned()]);
        }
        let out = run_cli(&args.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(
            out.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let json: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(json["k"].as_u64().unwrap() >= 9, "{file}");
        assert_eq!(
            json["p"].as_u64().unwrap() > 1,
            !e["mods"].is_null(),
            "{file}"
        );
        for key in ["title", "description", "source"] {
            assert!(!e[key].as_str().unwrap().is_empty(), "{file}: {key}");
        }
    }
}
