//! PKCS#11 return values as plugin error codes.
//!
//! | CKR_… | errorCode |
//! |---|---|
//! | PIN_INCORRECT, PIN_INVALID, PIN_LEN_RANGE, PIN_EXPIRED, PIN_LOCKED, USER_PIN_NOT_INITIALIZED, USER_NOT_LOGGED_IN, USER_TYPE_INVALID, FUNCTION_REJECTED | `ACCESS_DENIED` |
//! | TOKEN_NOT_PRESENT, TOKEN_NOT_RECOGNIZED, SLOT_ID_INVALID, DEVICE_REMOVED, KEY_HANDLE_INVALID, KEY_TYPE_INCONSISTENT, KEY_FUNCTION_NOT_PERMITTED, KEY_SIZE_RANGE, MECHANISM_INVALID, MECHANISM_PARAM_INVALID, OBJECT_HANDLE_INVALID | `VALIDATION_ERROR` |
//! | anything else | `ERROR` |
//!
//! Messages name the PKCS#11 function and the `CKR_` code; they never contain a PIN
//! (cryptoki's errors carry none, and callers pass the URI already redacted).

use cryptoki::context::Function;
use cryptoki::error::{Error, RvError};
use plugin_protocol::wire::{ErrorCode, PluginError};

/// The `CKR_…` name of a return value, e.g. `CKR_PIN_INCORRECT`.
pub fn ckr_name(rv: RvError) -> String {
    match rv {
        RvError::VendorDefined(v) => format!("CKR_VENDOR_DEFINED+0x{:x}", v),
        RvError::UnknownErrorCode(v) => format!("unknown return value 0x{v:x}"),
        other => {
            // The variants are the CKR names in CamelCase: PinLenRange → CKR_PIN_LEN_RANGE.
            let camel = format!("{other:?}");
            let mut out = String::from("CKR");
            for c in camel.chars() {
                if c.is_ascii_uppercase() {
                    out.push('_');
                }
                out.push(c.to_ascii_uppercase());
            }
            out
        }
    }
}

/// The `C_…` name of a PKCS#11 function, e.g. `C_Login`.
pub fn function_name(f: Function) -> String {
    format!("C_{f:?}")
}

/// The plugin error code for a PKCS#11 return value.
pub fn code_for(rv: RvError) -> ErrorCode {
    match rv {
        RvError::PinIncorrect
        | RvError::PinInvalid
        | RvError::PinLenRange
        | RvError::PinExpired
        | RvError::PinLocked
        | RvError::UserPinNotInitialized
        | RvError::UserNotLoggedIn
        | RvError::UserTypeInvalid
        | RvError::FunctionRejected => ErrorCode::AccessDenied,
        RvError::TokenNotPresent
        | RvError::TokenNotRecognized
        | RvError::SlotIdInvalid
        | RvError::DeviceRemoved
        | RvError::KeyHandleInvalid
        | RvError::KeyTypeInconsistent
        | RvError::KeyFunctionNotPermitted
        | RvError::KeySizeRange
        | RvError::MechanismInvalid
        | RvError::MechanismParamInvalid
        | RvError::ObjectHandleInvalid => ErrorCode::Validation,
        _ => ErrorCode::Generic,
    }
}

/// A short explanation for the return values users meet most.
fn explain(rv: RvError) -> Option<&'static str> {
    Some(match rv {
        RvError::PinIncorrect => "the PIN is incorrect",
        RvError::PinInvalid => "the PIN has invalid characters",
        RvError::PinLenRange => "the PIN is too long or too short for this token",
        RvError::PinExpired => "the PIN has expired and must be changed",
        RvError::PinLocked => "the PIN is locked after too many failed attempts",
        RvError::UserPinNotInitialized => "the token's user PIN was never initialized",
        RvError::UserNotLoggedIn => "the operation needs a login: give the PIN",
        RvError::FunctionRejected => "the token's user rejected the request",
        RvError::TokenNotPresent => "the token is not present",
        RvError::DeviceRemoved => "the token was removed",
        RvError::KeyFunctionNotPermitted => "the key may not be used for signing (CKA_SIGN)",
        RvError::MechanismInvalid => "the token does not offer the signing mechanism",
        _ => return None,
    })
}

/// A cryptoki error as a plugin error; `context` says what was being done (and
/// names the token or the redacted URI).
pub fn pkcs11_error(context: &str, e: Error) -> PluginError {
    match e {
        Error::Pkcs11(rv, f) => {
            let why = explain(rv).map(|w| format!("{w} (")).unwrap_or_default();
            let close = if why.is_empty() { "" } else { ")" };
            PluginError::new(
                code_for(rv),
                format!(
                    "{context}: {why}{} returned {}{close}",
                    function_name(f),
                    ckr_name(rv)
                ),
            )
        }
        other => PluginError::new(ErrorCode::Generic, format!("{context}: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(ckr_name(RvError::PinIncorrect), "CKR_PIN_INCORRECT");
        assert_eq!(ckr_name(RvError::PinLenRange), "CKR_PIN_LEN_RANGE");
        assert_eq!(ckr_name(RvError::SlotIdInvalid), "CKR_SLOT_ID_INVALID");
        assert_eq!(
            ckr_name(RvError::UserPinNotInitialized),
            "CKR_USER_PIN_NOT_INITIALIZED"
        );
        assert_eq!(
            ckr_name(RvError::VendorDefined(0x8000_0001)),
            "CKR_VENDOR_DEFINED+0x80000001"
        );
        assert_eq!(function_name(Function::Login), "C_Login");
    }

    #[test]
    fn wrong_pins_are_access_denied() {
        for rv in [
            RvError::PinIncorrect,
            RvError::PinLenRange,
            RvError::PinInvalid,
            RvError::PinExpired,
            RvError::PinLocked,
            RvError::UserNotLoggedIn,
        ] {
            assert_eq!(code_for(rv), ErrorCode::AccessDenied, "{rv:?}");
        }
        let e = pkcs11_error(
            "login to token \"prod\" failed",
            Error::Pkcs11(RvError::PinIncorrect, Function::Login),
        );
        assert_eq!(e.error_code, ErrorCode::AccessDenied);
        assert_eq!(
            e.error_message.unwrap(),
            "login to token \"prod\" failed: the PIN is incorrect (C_Login returned CKR_PIN_INCORRECT)"
        );
    }

    #[test]
    fn missing_tokens_and_unusable_keys_are_validation_errors() {
        for rv in [
            RvError::TokenNotPresent,
            RvError::SlotIdInvalid,
            RvError::KeyTypeInconsistent,
            RvError::KeyFunctionNotPermitted,
            RvError::MechanismInvalid,
        ] {
            assert_eq!(code_for(rv), ErrorCode::Validation, "{rv:?}");
        }
        let e = pkcs11_error(
            "signing",
            Error::Pkcs11(RvError::GeneralError, Function::Sign),
        );
        assert_eq!(e.error_code, ErrorCode::Generic);
        assert_eq!(
            e.error_message.unwrap(),
            "signing: C_Sign returned CKR_GENERAL_ERROR"
        );
        let e = pkcs11_error("x", Error::NullFunctionPointer);
        assert_eq!(e.error_code, ErrorCode::Generic);
    }
}
