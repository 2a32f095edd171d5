//! What templates and function calls need of the expression walker: evaluating a
//! sub-expression and binding `for` variables. A trait, so that the walker (`expr.rs`) and the
//! parts it calls into depend on it rather than on each other.

use crate::value::Value;
use hcl::expr::Expression;

pub(super) type R = Result<Value, String>;

pub(super) trait Walk {
    /// Evaluates a sub-expression.
    fn expr(&mut self, e: &Expression) -> R;
    /// The variables bound by enclosing `for`s, innermost last.
    fn frames(&mut self) -> &mut Vec<(String, Value)>;
}
