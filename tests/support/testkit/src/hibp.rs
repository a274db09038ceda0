//! The Pwned Passwords range API double (being written).
