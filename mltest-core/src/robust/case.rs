//! Drawing a case's ops, and shrinking the ones that fail.
//!
//! Every case has its own generator, seeded from the check's seed and the
//! case's number ([`case_rng`]), so case 417 is the same edit whether it
//! runs alone, in a later adaptive round, or on another thread. Built-in
//! steps draw their op straight from it ([`draw`]): no proptest value tree
//! is built for the ~99% of cases that pass, which is what made a case cost
//! ~2 µs before. A failing case is drawn again and turned into a value tree
//! ([`OpsTree`]) made of proptest's own binary-search trees, which shrink
//! as proptest's strategies did: fewer typos first, then positions toward
//! the start, noise toward zero, earlier typo kinds and letters. A user's
//! strategy ([`Step::Custom`]) keeps its own proptest tree, drawn from a
//! `TestRunner` seeded from the same case generator.

use proptest::num;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use super::perturb::{Cell, Op, Step, TextEdit, Typo, TypoKind};
use crate::rng::SplitMix64;

/// The typo kinds in the order their draw indexes them (a shrunk kind moves
/// toward the first).
const KINDS: [TypoKind; 4] = [
    TypoKind::Substitute,
    TypoKind::Delete,
    TypoKind::Insert,
    TypoKind::Transpose,
];

/// The generator of case `case` of a check seeded `seed`.
pub(crate) fn case_rng(seed: u64, case: u64) -> SplitMix64 {
    // murmur3's finaliser of the case number, xored into the seed's first
    // draw: neighbouring cases get unrelated streams (SplitMix64 states one
    // gamma apart would be the same stream shifted by one draw).
    let mut k = case.wrapping_add(0x632B_E59B_D9B4_E019);
    k = (k ^ (k >> 33)).wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    k = (k ^ (k >> 33)).wrapping_mul(0xC4CE_B9FE_1A85_EC53);
    k ^= k >> 33;
    SplitMix64::new(SplitMix64::new(seed).next_u64() ^ k)
}

fn test_runner(rng: &mut SplitMix64) -> TestRunner {
    let bytes: Vec<u8> = (0..2).flat_map(|_| rng.next_u64().to_le_bytes()).collect();
    TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::XorShift, &bytes),
    )
}

/// Draws `step`'s op into `slot`, reusing its allocation (a typo list, an
/// appended sentence) so the hot loop allocates nothing after the first case.
/// `original` is only read by a user's strategy.
pub(crate) fn draw(step: &Step, rng: &mut SplitMix64, original: &Cell, slot: &mut Op) {
    match step {
        Step::Text { edit, .. } => match edit {
            TextEdit::Typos { min, max } => {
                let count = min + rng.below(max.saturating_sub(*min) + 1);
                if !matches!(slot, Op::Typos(_)) {
                    *slot = Op::Typos(Vec::with_capacity(*max));
                }
                if let Op::Typos(typos) = slot {
                    typos.clear();
                    for _ in 0..count {
                        let kind = KINDS[rng.below(4)];
                        let at = rng.unit();
                        let ch = char::from(b'a' + rng.below(26) as u8);
                        typos.push(Typo { kind, at, ch });
                    }
                }
            }
            TextEdit::CaseChange => *slot = Op::Case(rng.unit(), rng.below(2) == 1),
            TextEdit::StripPunctuation => *slot = Op::StripPunctuation,
            TextEdit::ExtraWhitespace => *slot = Op::ExtraWhitespace(rng.unit()),
            TextEdit::DropWord => *slot = Op::DropWord(rng.unit()),
            TextEdit::DuplicateWord => *slot = Op::DuplicateWord(rng.unit()),
            TextEdit::Append(s) => {
                if !matches!(slot, Op::Append(a) if a == s) {
                    *slot = Op::Append(s.clone());
                }
            }
        },
        Step::Noise { .. } => *slot = Op::Noise(rng.unit() * 2.0 - 1.0),
        Step::Swap { unseen: false, .. } => *slot = Op::Swap(rng.unit()),
        Step::Swap { unseen: true, .. } => *slot = Op::SwapUnseen,
        Step::Null { probability, .. } => {
            *slot = if *probability >= 1.0 || rng.unit() < *probability {
                Op::Null
            } else {
                Op::Keep
            }
        }
        Step::Custom { strategy, .. } => {
            *slot = match strategy(original).new_tree(&mut test_runner(rng)) {
                Ok(tree) => Op::Set(tree.current()),
                Err(_) => Op::Keep,
            }
        }
    }
}

/// A shrinkable number: proptest's binary search toward zero.
enum Gene {
    F(num::f64::BinarySearch),
    U(num::u32::BinarySearch),
}

impl Gene {
    fn f(v: f64) -> Self {
        Gene::F(num::f64::BinarySearch::new(v))
    }
    fn u(v: u32) -> Self {
        Gene::U(num::u32::BinarySearch::new(v))
    }
    fn f64(&self) -> f64 {
        match self {
            Gene::F(t) => t.current(),
            Gene::U(t) => f64::from(t.current()),
        }
    }
    fn u32(&self) -> u32 {
        match self {
            Gene::F(t) => t.current() as u32,
            Gene::U(t) => t.current(),
        }
    }
    fn simplify(&mut self) -> bool {
        match self {
            Gene::F(t) => t.simplify(),
            Gene::U(t) => t.simplify(),
        }
    }
    fn complicate(&mut self) -> bool {
        match self {
            Gene::F(t) => t.complicate(),
            Gene::U(t) => t.complicate(),
        }
    }
}

/// Where a step's shrinking is: deleting list items, then shrinking genes
/// (proptest's `VecValueTree` order).
#[derive(Clone, Copy, PartialEq)]
enum Shrink {
    Delete(usize),
    Gene(usize),
}

/// One step's op as a value tree.
enum StepTree {
    /// Genes in the order the op reads them; typos are three genes each
    /// (kind, position, letter) and can be deleted down to `min`.
    Genes {
        op: Op,
        genes: Vec<Gene>,
        included: Vec<bool>,
        min: usize,
        shrink: Shrink,
        prev: Option<Shrink>,
    },
    Custom(Box<dyn ValueTree<Value = Cell>>),
}

impl StepTree {
    fn from_op(op: Op, step: &Step) -> Self {
        let (genes, items, min) = match (&op, step) {
            (Op::Typos(t), Step::Text { edit, .. }) => {
                let min = match edit {
                    TextEdit::Typos { min, .. } => *min,
                    _ => 0,
                };
                let genes = t
                    .iter()
                    .flat_map(|ty| {
                        let kind = KINDS.iter().position(|k| *k == ty.kind).unwrap_or(0);
                        [
                            Gene::u(kind as u32),
                            Gene::f(ty.at),
                            Gene::u(u32::from(ty.ch).saturating_sub(u32::from('a'))),
                        ]
                    })
                    .collect();
                (genes, t.len(), min)
            }
            (Op::Case(p, up), _) => (vec![Gene::f(*p), Gene::u(u32::from(*up))], 0, 0),
            (
                Op::ExtraWhitespace(p)
                | Op::DropWord(p)
                | Op::DuplicateWord(p)
                | Op::Noise(p)
                | Op::Swap(p),
                _,
            ) => (vec![Gene::f(*p)], 0, 0),
            // A null that may not fire shrinks toward not firing.
            (Op::Null, Step::Null { probability, .. }) if *probability < 1.0 => {
                (vec![Gene::u(1)], 0, 0)
            }
            _ => (Vec::new(), 0, 0),
        };
        StepTree::Genes {
            op,
            genes,
            included: vec![true; items],
            min,
            shrink: Shrink::Delete(0),
            prev: None,
        }
    }

    fn current(&self) -> Op {
        match self {
            StepTree::Custom(t) => Op::Set(t.current()),
            StepTree::Genes {
                op,
                genes,
                included,
                ..
            } => match op {
                Op::Typos(_) => Op::Typos(
                    included
                        .iter()
                        .enumerate()
                        .filter(|(_, on)| **on)
                        .map(|(i, _)| Typo {
                            kind: KINDS[(genes[3 * i].u32() as usize).min(3)],
                            at: genes[3 * i + 1].f64(),
                            ch: char::from(b'a' + genes[3 * i + 2].u32().min(25) as u8),
                        })
                        .collect(),
                ),
                Op::Case(..) => Op::Case(genes[0].f64(), genes[1].u32() == 1),
                Op::ExtraWhitespace(_) => Op::ExtraWhitespace(genes[0].f64()),
                Op::DropWord(_) => Op::DropWord(genes[0].f64()),
                Op::DuplicateWord(_) => Op::DuplicateWord(genes[0].f64()),
                Op::Noise(_) => Op::Noise(genes[0].f64()),
                Op::Swap(_) => Op::Swap(genes[0].f64()),
                Op::Null if !genes.is_empty() => {
                    if genes[0].u32() == 1 {
                        Op::Null
                    } else {
                        Op::Keep
                    }
                }
                other => other.clone(),
            },
        }
    }

    fn simplify(&mut self) -> bool {
        let StepTree::Genes {
            genes,
            included,
            min,
            shrink,
            prev,
            ..
        } = self
        else {
            let StepTree::Custom(t) = self else {
                return false;
            };
            return t.simplify();
        };
        if let Shrink::Delete(ix) = *shrink {
            if ix >= included.len() || included.iter().filter(|i| **i).count() <= *min {
                *shrink = Shrink::Gene(0);
            } else {
                included[ix] = false;
                *prev = Some(*shrink);
                *shrink = Shrink::Delete(ix + 1);
                return true;
            }
        }
        while let Shrink::Gene(g) = *shrink {
            if g >= genes.len() {
                return false;
            }
            // Genes of a deleted typo are not worth shrinking.
            if !included.is_empty() && !included[g / 3] {
                *shrink = Shrink::Gene(g + 1);
                continue;
            }
            if genes[g].simplify() {
                *prev = Some(*shrink);
                return true;
            }
            *shrink = Shrink::Gene(g + 1);
        }
        false
    }

    fn complicate(&mut self) -> bool {
        let StepTree::Genes {
            genes,
            included,
            shrink,
            prev,
            ..
        } = self
        else {
            let StepTree::Custom(t) = self else {
                return false;
            };
            return t.complicate();
        };
        match prev.take() {
            Some(Shrink::Delete(ix)) => {
                included[ix] = true;
                true
            }
            Some(Shrink::Gene(g)) => {
                if genes[g].complicate() {
                    *prev = Some(Shrink::Gene(g));
                    true
                } else {
                    *shrink = Shrink::Gene(g + 1);
                    false
                }
            }
            None => false,
        }
    }
}

/// A failing case's ops as a proptest value tree: the steps shrink one
/// after another, each as far as it goes.
pub(crate) struct OpsTree {
    steps: Vec<StepTree>,
    at: usize,
    last: Option<usize>,
}

impl OpsTree {
    /// Draws case `case` of `seed` again, this time as a tree.
    pub(crate) fn draw(steps: &[Step], seed: u64, case: u64, original: &[Cell]) -> Self {
        let mut rng = case_rng(seed, case);
        let trees = steps
            .iter()
            .zip(original)
            .map(|(step, cell)| match step {
                Step::Custom { strategy, .. } => {
                    match strategy(cell).new_tree(&mut test_runner(&mut rng)) {
                        Ok(t) => StepTree::Custom(Box::new(t)),
                        Err(_) => StepTree::from_op(Op::Keep, step),
                    }
                }
                _ => {
                    let mut op = Op::Keep;
                    draw(step, &mut rng, cell, &mut op);
                    StepTree::from_op(op, step)
                }
            })
            .collect();
        OpsTree {
            steps: trees,
            at: 0,
            last: None,
        }
    }
}

impl ValueTree for OpsTree {
    type Value = Vec<Op>;

    fn current(&self) -> Vec<Op> {
        self.steps.iter().map(StepTree::current).collect()
    }

    fn simplify(&mut self) -> bool {
        while self.at < self.steps.len() {
            if self.steps[self.at].simplify() {
                self.last = Some(self.at);
                return true;
            }
            self.at += 1;
        }
        false
    }

    fn complicate(&mut self) -> bool {
        match self.last {
            Some(i) => {
                let more = self.steps[i].complicate();
                if !more {
                    self.last = None;
                }
                more
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::robust::perturb::{Perturb, typos};

    #[test]
    fn a_case_is_the_same_draw_alone_or_after_others() {
        let p = Perturb::new()
            .text("t", typos(1..=3))
            .numeric("x", crate::robust::noise(1.0));
        let cells = [Cell::Text("abc".into()), Cell::Float(1.0)];
        let ops = |case| -> Vec<Op> {
            let mut rng = case_rng(5, case);
            p.steps()
                .iter()
                .zip(&cells)
                .map(|(s, c)| {
                    let mut op = Op::Keep;
                    draw(s, &mut rng, c, &mut op);
                    op
                })
                .collect()
        };
        assert_eq!(ops(417), ops(417));
        assert_ne!(ops(417), ops(418));
        let tree = OpsTree::draw(p.steps(), 5, 417, &cells);
        assert_eq!(
            tree.current(),
            ops(417),
            "the tree starts at the drawn case"
        );
    }

    #[test]
    fn shrinking_deletes_typos_to_the_minimum_then_moves_them_to_the_start() {
        let p = Perturb::new().text("t", typos(1..=3));
        let cells = [Cell::Text("abc".into())];
        // A case of three typos: always passes "still failing", so the
        // tree shrinks as far as it can.
        let case = (0..200)
            .find(|c| matches!(&OpsTree::draw(p.steps(), 1, *c, &cells).current()[0], Op::Typos(t) if t.len() == 3))
            .unwrap();
        let mut tree = OpsTree::draw(p.steps(), 1, case, &cells);
        while tree.simplify() {}
        match &tree.current()[0] {
            Op::Typos(t) => {
                assert_eq!(t.len(), 1);
                assert_eq!((t[0].kind, t[0].ch), (TypoKind::Substitute, 'a'));
                assert!(t[0].at < 1e-6, "{}", t[0].at);
            }
            other => panic!("{other:?}"),
        }
    }
}
