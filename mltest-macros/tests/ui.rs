//! Every compile error of the attribute macros, with its span, pinned by a
//! trybuild case. The cases use the macro crate directly so trybuild's
//! scratch build does not compile polars a second time; the expansion of a
//! *valid* attribute is exercised by the facade's integration tests.

#[test]
fn attribute_errors_are_spanned_and_explained() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
