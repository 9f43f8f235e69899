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
    let unread = |s: &Sensitivity| (format!("{:?}", s.influence), format!("{:?}", s.leave1out));
    let (influence, leave1out) = unread(sensitivity);
    assert!(influence.contains("bytes of JSON"), "{influence}");
    assert!(leave1out.contains("bytes of JSON"), "{leave1out}");

    assert!(answer.read_next_part());
    let (influence, leave1out) = unread(sensitivity);
    assert!(
        !influence.contains("bytes of JSON"),
        "the influence rows first"
    );
    assert!(leave1out.contains("bytes of JSON"), "the refits still text");
    assert!(answer.read_next_part());
    assert!(!unread(sensitivity).1.contains("bytes of JSON"));
    assert!(!answer.read_next_part(), "two parts, no third");
    // Read, the record is the one made in one go: eight studies' rows.
    assert_eq!(sensitivity, &direct);
    assert_eq!(sensitivity.influence_rows().len(), 8);
}
