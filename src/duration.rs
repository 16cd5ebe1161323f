//! Go's `time.ParseDuration`, because `--expiry` takes Go duration syntax and users
//! copy values between notation and us (spec §4.7). `2d` and `3h 20m` are errors,
//! with Go's messages.

/// Parses a Go duration into nanoseconds.
pub fn parse_go_duration(orig: &str) -> Result<i128, String> {
    let invalid = || format!("time: invalid duration {orig:?}");
    let mut s = orig;
    let mut neg = false;
    if let Some(rest) = s.strip_prefix('-') {
        neg = true;
        s = rest;
    } else if let Some(rest) = s.strip_prefix('+') {
        s = rest;
    }
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut total: i128 = 0;
    while !s.is_empty() {
        let b = s.as_bytes()[0];
        if !(b == b'.' || b.is_ascii_digit()) {
            return Err(invalid());
        }
        let int_len = s.bytes().take_while(u8::is_ascii_digit).count();
        let int_part = &s[..int_len];
        s = &s[int_len..];
        let mut frac_part = "";
        if let Some(rest) = s.strip_prefix('.') {
            let n = rest.bytes().take_while(u8::is_ascii_digit).count();
            frac_part = &rest[..n];
            s = &rest[n..];
        }
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(invalid());
        }
        let unit_len = s
            .char_indices()
            .find(|(_, c)| *c == '.' || c.is_ascii_digit())
            .map(|(i, _)| i)
            .unwrap_or(s.len());
        if unit_len == 0 {
            return Err(format!("time: missing unit in duration {orig:?}"));
        }
        let unit = &s[..unit_len];
        s = &s[unit_len..];
        let scale: i128 = match unit {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60 * 1_000_000_000,
            "h" => 3600 * 1_000_000_000,
            _ => return Err(format!("time: unknown unit {unit:?} in duration {orig:?}")),
        };
        let int_val: i128 = if int_part.is_empty() {
            0
        } else {
            int_part.parse().map_err(|_| invalid())?
        };
        let mut v = int_val.checked_mul(scale).ok_or_else(invalid)?;
        if !frac_part.is_empty() {
            // Digits beyond nanosecond precision of the largest unit cannot matter;
            // 18 of them keep f * scale far inside i128.
            let digits = &frac_part[..frac_part.len().min(18)];
            let f: i128 = digits.parse().map_err(|_| invalid())?;
            let div = 10i128.pow(digits.len() as u32);
            let frac = f.checked_mul(scale).ok_or_else(invalid)? / div;
            v = v.checked_add(frac).ok_or_else(invalid)?;
        }
        total = total.checked_add(v).ok_or_else(invalid)?;
        // Go's Duration is an int64 of nanoseconds.
        if total > i64::MAX as i128 {
            return Err(invalid());
        }
    }
    Ok(if neg { -total } else { total })
}

#[cfg(test)]
mod tests {
    use super::parse_go_duration as p;

    const S: i128 = 1_000_000_000;

    #[test]
    fn accepts_go_syntax() {
        assert_eq!(p("3h20m"), Ok(12_000 * S));
        assert_eq!(p("1.5h"), Ok(5_400 * S));
        assert_eq!(p("300ms"), Ok(300_000_000));
        assert_eq!(p("0"), Ok(0));
        assert_eq!(p("-1h"), Ok(-3_600 * S));
        assert_eq!(p("3600s"), Ok(3_600 * S));
        assert_eq!(p(".5s"), Ok(S / 2));
        assert_eq!(p("1\u{b5}s"), Ok(1_000));
        // Long fractions neither overflow nor lose the integer part.
        assert_eq!(
            p("1.999999999999999999999999999999h"),
            Ok(7_199_999_999_999)
        );
    }

    #[test]
    fn rejects_like_go() {
        assert_eq!(
            p("2d").unwrap_err(),
            r#"time: unknown unit "d" in duration "2d""#
        );
        assert_eq!(
            p("3h 20m").unwrap_err(),
            r#"time: unknown unit "h " in duration "3h 20m""#
        );
        assert_eq!(p("5").unwrap_err(), r#"time: missing unit in duration "5""#);
        assert_eq!(p("").unwrap_err(), r#"time: invalid duration """#);
        assert_eq!(p("h").unwrap_err(), r#"time: invalid duration "h""#);
        assert_eq!(p(".h").unwrap_err(), r#"time: invalid duration ".h""#);
        assert!(p("9999999999h").is_err());
    }
}
