//! A Sensitivity answer read from a worker's JSON leaves its two large parts as text, and the
//! page reads them one a task (influence first, then the refits) before handing it on.

use super::*;
use crate::analysis::sensitivity::sensitivity;

#[test]
fn a_sensitivity_answer_reads_its_parts_one_at_a_time_influence_first() {
    let run = analyse(CSV, &input().spec).expect("analyses");
    let direct = sensitivity(&run.table, &run.fitted, &run.analysis.data).expect("deletions");
    let given = Response::Record {
        record: Box::new(Record::Sensitivity {
            sensitivity: direct.clone(),
        }),
        stages: Vec::new(),
    };
    // Made here, every part is a value: there is nothing to read.
    assert!(!given.read_next_part());

    let json = serde_json::to_vec(&given).expect("serialises");
    let answer: Response = serde_json::from_slice(&json).expect("reads");
    let Response::Record { record, .. } = &answer else {
        panic!("a record");
    };
    let Record::Sensitivity { sensitivity } = record.as_ref() else {
        panic!("the sensitivity record");
    };
    // The first part read is the influence rows: reading them again finds nothing to read.
    assert!(answer.read_next_part());
    assert!(!sensitivity.influence.read(), "the influence rows first");
    // The refits were still text then; read here, nothing is left for a third call.
    assert!(sensitivity.leave1out.read(), "the refits still text");
    assert!(!answer.read_next_part(), "two parts, no third");
    // Read, the record is the one made in one go: eight studies' rows.
    assert_eq!(sensitivity, &direct);
    assert_eq!(sensitivity.influence_rows().len(), 8);
}
