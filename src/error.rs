//! The one error type that means "the user asked for something unusable": exit code 2.

/// Bad input: an unknown name, an impossible number, an unreadable or foreign file, an
/// unwritable folder. Reported as one line on stderr with exit code 2.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadInput(pub String);

impl BadInput {
    pub fn new(msg: impl Into<String>) -> Self {
        BadInput(msg.into())
    }
}

/// Exit code for bad input.
pub const EXIT_BAD_INPUT: u8 = 2;
/// Exit code when a case failed or a regression was found.
pub const EXIT_FAILED: u8 = 1;
