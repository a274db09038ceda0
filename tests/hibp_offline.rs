//! `atoctl hibp-check --offline` against generated corpora in both layouts of the official
//! downloader, and files that are not corpora.

mod hibp_support;

use std::path::Path;

use atoctl_testkit::hibp::corpus::{
    Layout, lines_in_prefixes, lines_with, write_sorted_file, write_split_dir,
};
use hibp_support::*;
use serde_json::json;

const PW: &str = "correct horse battery staple";

fn offline(path: &Path, stdin: &str, extra: &[&str]) -> Run {
    run(atoctl()
        .args(["hibp-check", "--stdin", "-o", "json", "--offline"])
        .arg(path)
        .args(extra)
        .write_stdin(stdin))
}

fn offline_sha1(path: &Path, hex: &str) -> Run {
    run(atoctl()
        .args(["hibp-check", "-o", "json", "--sha1", hex, "--offline"])
        .arg(path))
}

/// A corpus holding PW (count 31337) among `filler` other hashes.
fn corpus_lines(filler: usize) -> Vec<(String, u64)> {
    lines_with(&[(sha1_hex(PW), 31337)], filler, 7)
}

/// A corpus holding PW (count 31337) in a few full prefixes: few files in the split layout.
fn clustered_lines() -> Vec<(String, u64)> {
    lines_in_prefixes(
        &[(sha1_hex(PW), 31337)],
        &["00000", "0A1B2", "7C4A8", "FFFFF"],
        600,
        7,
    )
}

#[test]
fn a_sorted_file_is_searched_in_every_layout_the_downloader_writes() {
    let dir = tempfile::tempdir().unwrap();
    let lines = corpus_lines(5000);
    let layouts = [
        Layout::default(),
        Layout {
            crlf: false,
            final_newline: false,
            ..Layout::default()
        },
        Layout {
            bom_at_start: true,
            ..Layout::default()
        },
        Layout {
            bom_every: 100,
            crlf: false,
            ..Layout::default()
        },
    ];
    for (i, layout) in layouts.into_iter().enumerate() {
        let path = dir.path().join(format!("pwned-{i}.txt"));
        write_sorted_file(&path, &lines, layout);
        let r = offline(&path, &format!("{PW}\n"), &[]);
        assert_eq!(r.code, 4, "{layout:?}: {}", r.stderr);
        assert_eq!(
            r.json(),
            json!({"pwned": true, "count": 31337, "source": "offline"})
        );
        assert_no_secret("stdout", &r.stdout, PW, &sha1_hex(PW));
        assert_no_secret("stderr", &r.stderr, PW, &sha1_hex(PW));
        let r = offline(&path, "not in there\n", &[]);
        assert_eq!(r.code, 0, "{layout:?}: {}", r.stderr);
        assert_eq!(
            r.json(),
            json!({"pwned": false, "count": 0, "source": "offline"})
        );
        // The first and the last line, and hashes just outside the file's range.
        let (first, last) = (&lines[0], &lines[lines.len() - 1]);
        for (hex, count) in [first, last] {
            let r = offline_sha1(&path, hex);
            assert_eq!(r.code, 4, "{layout:?} {hex}: {}", r.stderr);
            assert_eq!(r.json()["count"], json!(count));
        }
        for edge in ["0".repeat(40), "F".repeat(40)] {
            let r = offline_sha1(&path, &edge);
            assert_eq!(r.code, 0, "{layout:?}: {}", r.stderr);
        }
    }
}

#[test]
fn a_split_directory_reads_the_one_prefix_file() {
    let dir = tempfile::tempdir().unwrap();
    let lines = clustered_lines();
    for (i, layout) in [
        Layout::default(),
        Layout {
            crlf: false,
            final_newline: false,
            bom_at_start: true,
            ..Layout::default()
        },
    ]
    .into_iter()
    .enumerate()
    {
        let root = dir.path().join(format!("split-{i}"));
        write_split_dir(&root, &lines, layout);
        let r = offline(&root, &format!("{PW}\n"), &[]);
        assert_eq!(r.code, 4, "{}", r.stderr);
        assert_eq!(
            r.json(),
            json!({"pwned": true, "count": 31337, "source": "offline"})
        );
        // Same prefix, another suffix: not found.
        let mut other = sha1_hex(PW);
        other.replace_range(39.., if other.ends_with('0') { "1" } else { "0" });
        let r = offline_sha1(&root, &other);
        assert_eq!(r.code, 0, "{}", r.stderr);
        // A prefix with no file: the corpus is incomplete, which is unknown, not "not found".
        let missing = (0..)
            .map(|n| format!("{n:05X}{}", "0".repeat(35)))
            .find(|h| !root.join(format!("{}.txt", &h[..5])).exists())
            .unwrap();
        let r = offline_sha1(&root, &missing);
        assert_eq!(r.code, 1, "{}", r.stderr);
        assert!(r.stderr.contains("incomplete"), "{}", r.stderr);
        assert_eq!(r.json()["pwned"], json!(null));
    }
}

#[test]
fn an_ntlm_corpus_needs_ntlm_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pwned-ntlm.txt");
    let lines = lines_in_prefixes(&[(nt_hex(PW), 99)], &["12345", "ABCDE"], 500, 11);
    write_sorted_file(&path, &lines, Layout::default());
    let r = offline(&path, &format!("{PW}\n"), &["--ntlm"]);
    assert_eq!(r.code, 4, "{}", r.stderr);
    assert_eq!(r.json()["count"], json!(99));
    let r = run(atoctl()
        .args(["hibp-check", "--nt-hash", &nt_hex(PW), "--offline"])
        .arg(&path));
    assert_eq!(r.code, 4, "{}", r.stderr);
    // Without --ntlm the file is recognised as the wrong kind instead of answered.
    let r = offline(&path, &format!("{PW}\n"), &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("add --ntlm"), "{}", r.stderr);
    // The split layout in NTLM mode.
    let root = dir.path().join("split-ntlm");
    write_split_dir(&root, &lines, Layout::default());
    let r = offline(&root, &format!("{PW}\n"), &["--ntlm"]);
    assert_eq!(r.code, 4, "{}", r.stderr);
}

#[test]
fn what_is_not_a_corpus_is_reported_not_answered() {
    let dir = tempfile::tempdir().unwrap();
    let good = corpus_lines(500);
    let mut cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "text",
            b"Dear user,\nhere are the passwords\n".to_vec(),
            "not a Pwned Passwords corpus",
        ),
        ("html", b"<!DOCTYPE html>\n<html></html>\n".to_vec(), "HTML"),
        ("empty", Vec::new(), "empty"),
        (
            "json",
            br#"{"pwned": true}"#.to_vec(),
            "not a Pwned Passwords corpus",
        ),
    ];
    let mut cut = Vec::new();
    for (h, c) in &good {
        cut.extend_from_slice(format!("{h}:{c}\r\n").as_bytes());
    }
    cut.truncate(cut.len() - 30);
    cases.push(("cut", cut, "cut short"));
    let mut spaced = Vec::new();
    for (h, c) in &good {
        spaced.extend_from_slice(format!("{h} : {c}\r\n").as_bytes());
    }
    cases.push(("spaced", spaced, "not a Pwned Passwords corpus"));
    let mut reversed = good.clone();
    reversed.reverse();
    let mut rev = Vec::new();
    for (h, c) in &reversed {
        rev.extend_from_slice(format!("{h}:{c}\r\n").as_bytes());
    }
    cases.push(("reversed", rev, "sorted"));
    for (name, bytes, says) in cases {
        let path = dir.path().join(format!("{name}.txt"));
        std::fs::write(&path, bytes).unwrap();
        let r = offline(&path, &format!("{PW}\n"), &[]);
        assert_eq!(r.code, 1, "{name}: {} {}", r.stdout, r.stderr);
        assert!(
            r.stderr.contains(says),
            "{name} should say {says:?}: {}",
            r.stderr
        );
        assert_no_secret("stderr", &r.stderr, PW, &sha1_hex(PW));
    }
}

#[test]
fn a_missing_path_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let r = offline(&dir.path().join("nope.txt"), &format!("{PW}\n"), &[]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("no such file"));
}

#[test]
fn offline_checks_are_journaled_with_source_offline_and_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let j = open_journal(dir.path());
    let path = dir.path().join("pwned.txt");
    write_sorted_file(&path, &corpus_lines(1000), Layout::default());
    let r = run(atoctl()
        .args(["hibp-check", "--stdin", "--offline"])
        .arg(&path)
        .arg("--incident")
        .arg(&j)
        .write_stdin(format!("{PW}\n")));
    assert_eq!(r.code, 4, "{}", r.stderr);
    let e = last_entry(&j);
    assert_eq!(e["verdict"], json!("pwned"));
    assert_eq!(e["count"], json!(31337));
    assert_eq!(e["source"], json!("offline"));
    assert_eq!(e["identity"], json!(null));
    let evidence = journal_evidence(&j);
    assert_no_secret("the journal", &evidence, PW, &sha1_hex(PW));
    assert_no_prefix("the journal", &evidence, &sha1_hex(PW));
    assert_journal_intact(&j);
}

#[test]
fn a_hash_file_offline_answers_every_line_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let lines = clustered_lines();
    let corpus = dir.path().join("pwned.txt");
    write_sorted_file(&corpus, &lines, Layout::default());
    let split = dir.path().join("split");
    write_split_dir(&split, &lines, Layout::default());
    // Every 37th corpus hash (found) interleaved with absent ones, lowercase for some.
    let mut input = String::new();
    let mut expect = Vec::new();
    for (i, (h, c)) in lines.iter().step_by(37).enumerate() {
        let given = if i % 2 == 0 {
            h.clone()
        } else {
            h.to_ascii_lowercase()
        };
        input.push_str(&format!("{given}\n"));
        expect.push(
            json!({"line": expect.len() + 1, "pwned": true, "count": c, "source": "offline"}),
        );
        let mut absent = h.clone();
        absent.replace_range(39.., if h.ends_with('0') { "1" } else { "0" });
        if lines.binary_search_by(|(l, _)| l.cmp(&absent)).is_err() {
            input.push_str(&format!("{absent}\n"));
            expect.push(
                json!({"line": expect.len() + 1, "pwned": false, "count": 0, "source": "offline"}),
            );
        }
    }
    let file = dir.path().join("hashes.txt");
    std::fs::write(&file, &input).unwrap();
    for path in [&corpus, &split] {
        let r = run(atoctl()
            .args(["hibp-check", "--sha1-file"])
            .arg(&file)
            .arg("--offline")
            .arg(path));
        assert_eq!(r.code, 4, "{}", r.stderr);
        let got = r.json_lines();
        // Exactly these lines: nothing of any hash is echoed.
        assert_eq!(got, expect);
    }
    // Only absent hashes: exit 0. Read from stdin with `-`.
    let absent: String = (0..50).map(|i| format!("{:040X}\n", i * 7 + 1)).collect();
    let r = run(atoctl()
        .args(["hibp-check", "--sha1-file", "-", "--offline"])
        .arg(&corpus)
        .write_stdin(absent));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.lines().count(), 50);
}

#[test]
fn a_hash_file_against_a_broken_corpus_is_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let lines = corpus_lines(3000);
    let mut reversed = lines.clone();
    reversed.reverse();
    let path = dir.path().join("reversed.txt");
    let mut bytes = Vec::new();
    for (h, c) in &reversed {
        bytes.extend_from_slice(format!("{h}:{c}\r\n").as_bytes());
    }
    std::fs::write(&path, bytes).unwrap();
    let file = dir.path().join("hashes.txt");
    let input: String = lines
        .iter()
        .step_by(50)
        .map(|(h, _)| format!("{h}\n"))
        .collect();
    std::fs::write(&file, input).unwrap();
    let r = run(atoctl()
        .args(["hibp-check", "--sha1-file"])
        .arg(&file)
        .arg("--offline")
        .arg(&path));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("sorted"), "{}", r.stderr);
    assert!(r.stdout.is_empty(), "no partial answers: {}", r.stdout);
}
