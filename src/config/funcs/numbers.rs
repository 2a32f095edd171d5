//! Configuration functions: numbers.

#[allow(unused_imports)]
use super::args::*;

pub(super) fn abs(args: FuncArgs) -> Res {
    num_value(arg_f64("abs", "argument", &args[0])?.abs(), "abs")
}

pub(super) fn ceil(args: FuncArgs) -> Res {
    num_value(arg_f64("ceil", "argument", &args[0])?.ceil(), "ceil")
}

pub(super) fn floor(args: FuncArgs) -> Res {
    num_value(arg_f64("floor", "argument", &args[0])?.floor(), "floor")
}

pub(super) fn signum(args: FuncArgs) -> Res {
    let n = arg_f64("signum", "argument", &args[0])?;
    let s = match n.partial_cmp(&0.0) {
        Some(Ordering::Less) => -1,
        Some(Ordering::Greater) => 1,
        _ => 0,
    };
    Ok(Value::from(s))
}

pub(super) fn pow(args: FuncArgs) -> Res {
    let base = arg_f64("pow", "base", &args[0])?;
    let exp = arg_f64("pow", "exponent", &args[1])?;
    num_value(base.powf(exp), "pow")
}

pub(super) fn numbers(func: &str, args: &[Value]) -> Result<Vec<(Number, f64)>, String> {
    if args.is_empty() {
        return Err(format!("{func}: expected at least one number, got none"));
    }
    args.iter()
        .enumerate()
        .map(|(i, v)| {
            let n = arg_num(func, &format!("argument {}", i + 1), v)?;
            let f = num_f64(&n);
            Ok((n, f))
        })
        .collect()
}

pub(super) fn min(args: FuncArgs) -> Res {
    let nums = numbers("min", &args)?;
    let best = nums
        .into_iter()
        .reduce(|a, b| if b.1 < a.1 { b } else { a })
        .map(|(n, _)| n);
    Ok(best.map_or(Value::Null, Value::Number))
}

pub(super) fn max(args: FuncArgs) -> Res {
    let nums = numbers("max", &args)?;
    let best = nums
        .into_iter()
        .reduce(|a, b| if b.1 > a.1 { b } else { a })
        .map(|(n, _)| n);
    Ok(best.map_or(Value::Null, Value::Number))
}

pub(super) fn sum(args: FuncArgs) -> Res {
    let list = arg_list("sum", "argument", &args[0])?;
    if list.is_empty() {
        return Err("sum: cannot sum an empty list".into());
    }
    let mut total = 0.0;
    for (i, v) in list.iter().enumerate() {
        total += arg_f64("sum", &format!("element {i}"), v)?;
    }
    num_value(total, "sum")
}

/// Terraform's limit on the number of elements `range` may produce.
pub(super) const RANGE_MAX: usize = 1024;

pub(super) fn range(args: FuncArgs) -> Res {
    let nums: Vec<f64> = args
        .iter()
        .enumerate()
        .map(|(i, v)| arg_f64("range", &format!("argument {}", i + 1), v))
        .collect::<Result<_, _>>()?;
    let (start, limit, step) = match nums[..] {
        [limit] => (0.0, limit, 1.0),
        [start, limit] => (start, limit, if start > limit { -1.0 } else { 1.0 }),
        [start, limit, step] => (start, limit, step),
        _ => {
            return Err(format!(
                "range: expected 1 to 3 arguments (start, limit, step), got {}",
                nums.len()
            ));
        }
    };
    if step == 0.0 {
        return Err("range: step must not be zero".into());
    }
    if start < limit && step < 0.0 {
        return Err(format!(
            "range: step must be positive when start is less than limit, got {step}"
        ));
    }
    if start > limit && step > 0.0 {
        return Err(format!(
            "range: step must be negative when start is greater than limit, got {step}"
        ));
    }
    let mut out = Vec::new();
    let mut i = 0.0;
    loop {
        let v = start + step * i;
        if (step > 0.0 && v >= limit) || (step < 0.0 && v <= limit) {
            break;
        }
        if out.len() == RANGE_MAX {
            return Err(format!(
                "range: more than {RANGE_MAX} elements would be produced"
            ));
        }
        out.push(num_value(v, "range")?);
        i += 1.0;
    }
    Ok(Value::Array(out))
}
