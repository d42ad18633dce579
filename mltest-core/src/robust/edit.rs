//! Applying a text op, into buffers the caller keeps: the robustness hot
//! loop edits ~1,000 reviews of ~300 characters per check, and allocating
//! two strings and a `Vec<char>` per case cost more than the edit itself.
//! Positions are fractions of the text in characters; ASCII text (most
//! reviews) is edited by byte offset, other text through `char_indices`.

use super::perturb::{Op, Typo, TypoKind};

fn char_index(len: usize, pos: f64) -> usize {
    ((pos * len as f64) as usize).min(len.saturating_sub(1))
}

/// Applies a text op to a string (allocating; the tests' form).
#[cfg(test)]
pub(crate) fn apply_text(text: &str, op: &Op) -> String {
    let mut s = text.to_string();
    apply_text_in_place(&mut s, op, &mut String::new());
    s
}

/// Applies a text op to `s` in place; `tmp` is scratch for the ops that
/// rebuild the text (its contents are overwritten).
pub(crate) fn apply_text_in_place(s: &mut String, op: &Op, tmp: &mut String) {
    match op {
        Op::Typos(typos) => {
            for typo in typos {
                apply_typo(s, typo);
            }
        }
        Op::StripPunctuation => s.retain(|c| !c.is_ascii_punctuation()),
        Op::ExtraWhitespace(pos) => {
            let spaces = s.bytes().filter(|b| *b == b' ').count();
            if spaces == 0 {
                s.push(' ');
            } else {
                let k = char_index(spaces, *pos);
                if let Some((i, _)) = s.match_indices(' ').nth(k) {
                    s.insert(i, ' ');
                }
            }
        }
        Op::Append(sentence) => {
            if !s.is_empty() {
                s.push(' ');
            }
            s.push_str(sentence);
        }
        Op::DropWord(pos) => {
            let words = s.split(' ').count();
            if words > 1 {
                let i = char_index(words, *pos);
                let mut first = true;
                rebuild(s, tmp, |k, w, out| {
                    if k != i {
                        if !first {
                            out.push(' ');
                        }
                        first = false;
                        out.push_str(w);
                    }
                });
            }
        }
        Op::DuplicateWord(pos) => {
            let i = char_index(s.split(' ').count(), *pos);
            rebuild(s, tmp, |k, w, out| {
                if k > 0 {
                    out.push(' ');
                }
                out.push_str(w);
                if k == i {
                    out.push(' ');
                    out.push_str(w);
                }
            });
        }
        Op::Case(pos, up) => {
            let i = char_index(s.split(' ').count(), *pos);
            rebuild(s, tmp, |k, w, out| {
                if k > 0 {
                    out.push(' ');
                }
                if k != i {
                    out.push_str(w);
                } else if *up {
                    out.extend(w.chars().flat_map(char::to_uppercase));
                } else if w.is_ascii() {
                    out.extend(w.chars().map(|c| c.to_ascii_lowercase()));
                } else {
                    // Greek final sigma: only str's rule is right.
                    out.push_str(&w.to_lowercase());
                }
            });
        }
        _ => {}
    }
}

/// Rebuilds `s` word by word (split on single spaces) into `tmp`, then swaps.
fn rebuild(s: &mut String, tmp: &mut String, mut f: impl FnMut(usize, &str, &mut String)) {
    tmp.clear();
    for (k, w) in s.split(' ').enumerate() {
        f(k, w, tmp);
    }
    std::mem::swap(s, tmp);
}

/// Byte offset and length of character `i` of `s`.
fn char_at(s: &str, i: usize) -> (usize, usize) {
    if s.is_ascii() {
        return (i, 1);
    }
    s.char_indices()
        .nth(i)
        .map_or((s.len(), 0), |(b, c)| (b, c.len_utf8()))
}

fn apply_typo(s: &mut String, &Typo { kind, at, ch }: &Typo) {
    if s.is_empty() {
        if kind == TypoKind::Insert {
            s.push(ch);
        }
        return;
    }
    let len = if s.is_ascii() {
        s.len()
    } else {
        s.chars().count()
    };
    let i = char_index(len, at);
    match kind {
        TypoKind::Insert => s.insert(char_at(s, i).0, ch),
        TypoKind::Delete => {
            s.remove(char_at(s, i).0);
        }
        TypoKind::Substitute => {
            let (b, n) = char_at(s, i);
            let mut buf = [0u8; 4];
            s.replace_range(b..b + n, ch.encode_utf8(&mut buf));
        }
        TypoKind::Transpose => {
            let j = if i + 1 < len {
                i
            } else if i > 0 {
                i - 1
            } else {
                return;
            };
            let (b, n1) = char_at(s, j);
            let n2 = char_at(s, j + 1).1;
            if s.is_ascii() {
                let pair = [s.as_bytes()[b + 1], s.as_bytes()[b]];
                if let Ok(swapped) = std::str::from_utf8(&pair) {
                    s.replace_range(b..b + 2, swapped);
                }
            } else {
                let first: String = s[b..b + n1].to_string();
                let second: String = s[b + n1..b + n1 + n2].to_string();
                s.replace_range(b..b + n1 + n2, &(second + &first));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The definitions the in-place edits replace, kept as the oracle.
    fn reference(text: &str, op: &Op) -> String {
        match op {
            Op::Typos(typos) => {
                let mut chars: Vec<char> = text.chars().collect();
                for &Typo { kind, at, ch } in typos {
                    if chars.is_empty() {
                        if kind == TypoKind::Insert {
                            chars.push(ch);
                        }
                        continue;
                    }
                    let i = char_index(chars.len(), at);
                    match kind {
                        TypoKind::Insert => chars.insert(i, ch),
                        TypoKind::Delete => {
                            chars.remove(i);
                        }
                        TypoKind::Substitute => chars[i] = ch,
                        TypoKind::Transpose => {
                            if i + 1 < chars.len() {
                                chars.swap(i, i + 1);
                            } else if i > 0 {
                                chars.swap(i - 1, i);
                            }
                        }
                    }
                }
                chars.into_iter().collect()
            }
            Op::Case(pos, up) => {
                let words: Vec<&str> = text.split(' ').collect();
                let i = char_index(words.len(), *pos);
                words
                    .iter()
                    .enumerate()
                    .map(|(k, w)| match (k == i, up) {
                        (false, _) => w.to_string(),
                        (true, true) => w.to_uppercase(),
                        (true, false) => w.to_lowercase(),
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            }
            Op::StripPunctuation => text.chars().filter(|c| !c.is_ascii_punctuation()).collect(),
            Op::ExtraWhitespace(pos) => {
                let spaces: Vec<usize> = text.match_indices(' ').map(|(i, _)| i).collect();
                match spaces.get(char_index(spaces.len(), *pos)) {
                    Some(&i) => format!("{} {}", &text[..i], &text[i..]),
                    None => format!("{text} "),
                }
            }
            Op::DropWord(pos) => {
                let words: Vec<&str> = text.split(' ').collect();
                if words.len() <= 1 {
                    return text.to_string();
                }
                let i = char_index(words.len(), *pos);
                words
                    .iter()
                    .enumerate()
                    .filter(|(k, _)| *k != i)
                    .map(|(_, w)| *w)
                    .collect::<Vec<_>>()
                    .join(" ")
            }
            Op::DuplicateWord(pos) => {
                let words: Vec<&str> = text.split(' ').collect();
                let i = char_index(words.len(), *pos);
                let mut out: Vec<&str> = Vec::new();
                for (k, w) in words.iter().enumerate() {
                    out.push(w);
                    if k == i {
                        out.push(w);
                    }
                }
                out.join(" ")
            }
            Op::Append(s) if text.is_empty() => s.clone(),
            Op::Append(s) => format!("{text} {s}"),
            _ => text.to_string(),
        }
    }

    fn typo() -> impl Strategy<Value = Typo> {
        (
            0..4usize,
            0.0..1.0f64,
            prop_oneof![proptest::char::range('a', 'z'), Just('é')],
        )
            .prop_map(|(k, at, ch)| Typo {
                kind: [
                    TypoKind::Substitute,
                    TypoKind::Delete,
                    TypoKind::Insert,
                    TypoKind::Transpose,
                ][k],
                at,
                ch,
            })
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            proptest::collection::vec(typo(), 0..4).prop_map(Op::Typos),
            (0.0..1.0f64, any::<bool>()).prop_map(|(p, u)| Op::Case(p, u)),
            Just(Op::StripPunctuation),
            (0.0..1.0f64).prop_map(Op::ExtraWhitespace),
            (0.0..1.0f64).prop_map(Op::DropWord),
            (0.0..1.0f64).prop_map(Op::DuplicateWord),
            "[a-z .]{0,8}".prop_map(Op::Append),
        ]
    }

    proptest! {
        #[test]
        fn in_place_edits_equal_the_reference_definitions(
            text in "([a-zA-Z,.!']{0,6}( |  |Σ|é|ü)?){0,8}",
            op in op(),
        ) {
            let mut s = text.clone();
            apply_text_in_place(&mut s, &op, &mut String::from("left over"));
            prop_assert_eq!(s, reference(&text, &op), "op {:?} on {:?}", op, text);
        }
    }

    #[test]
    fn typos_edit_at_fractional_positions() {
        let typo = |kind, at, ch| Typo { kind, at, ch };
        let op = Op::Typos(vec![
            typo(TypoKind::Substitute, 0.0, 'x'),
            typo(TypoKind::Delete, 0.99, 'a'),
        ]);
        assert_eq!(apply_text("love it", &op), "xove i");
        let op = Op::Typos(vec![
            typo(TypoKind::Transpose, 0.0, 'a'),
            typo(TypoKind::Insert, 0.5, 'z'),
        ]);
        assert_eq!(apply_text("abcd", &op), "bazcd");
    }

    #[test]
    fn word_edits() {
        assert_eq!(apply_text("a b c", &Op::DropWord(0.5)), "a c");
        assert_eq!(apply_text("a b c", &Op::DuplicateWord(0.0)), "a a b c");
        assert_eq!(
            apply_text("Nice, dress!", &Op::StripPunctuation),
            "Nice dress"
        );
        assert_eq!(apply_text("a b", &Op::ExtraWhitespace(0.0)), "a  b");
        assert_eq!(apply_text("good dress", &Op::Case(0.9, true)), "good DRESS");
        assert_eq!(apply_text("", &Op::Append("Ok.".into())), "Ok.");
    }
}
