//! The flags audit-query puts on an identity's events, and what earns each.
//!
//! A flag says why an event deserves a look during an account takeover. They have a fixed
//! order (the order of the contract, the order in which they are shown) and fit in one byte,
//! so that an event carries its flags by value however many events stream past.

/// One flag. The discriminant is the flag's place in [`Flag::ALL`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    /// The event's IP was not used by the identity in the baseline period before the window.
    NewIp,
    PasswordChange,
    SettingsChange,
    EmailChange,
    OAuth2Grant,
    MfaChange,
    Recovery,
    /// Two consecutive located events too far apart for the time between them.
    ImpossibleTravel,
}

impl Flag {
    /// Every flag, in the order they are shown.
    pub const ALL: [Flag; 8] = [
        Flag::NewIp,
        Flag::PasswordChange,
        Flag::SettingsChange,
        Flag::EmailChange,
        Flag::OAuth2Grant,
        Flag::MfaChange,
        Flag::Recovery,
        Flag::ImpossibleTravel,
    ];

    /// The contract's name of the flag.
    pub fn name(self) -> &'static str {
        match self {
            Flag::NewIp => "new-ip",
            Flag::PasswordChange => "password-change",
            Flag::SettingsChange => "settings-change",
            Flag::EmailChange => "email-change",
            Flag::OAuth2Grant => "oauth2-grant",
            Flag::MfaChange => "mfa-change",
            Flag::Recovery => "recovery",
            Flag::ImpossibleTravel => "impossible-travel",
        }
    }

    /// The flag an event type carries by itself. `oidc.linked` (a new social sign-in attached
    /// to the account, done in Kratos's settings flow) counts as a settings change.
    pub fn of_type(event_type: &str) -> Option<Flag> {
        Some(match event_type {
            "password.changed" => Flag::PasswordChange,
            "settings.changed" | "oidc.linked" => Flag::SettingsChange,
            "email.changed" => Flag::EmailChange,
            "oauth2.consent.granted" => Flag::OAuth2Grant,
            "mfa.enrolled" | "mfa.removed" => Flag::MfaChange,
            "recovery.started" | "recovery.succeeded" => Flag::Recovery,
            _ => return None,
        })
    }

    fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// A set of flags (one bit each).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flags(u8);

impl Flags {
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn contains(self, flag: Flag) -> bool {
        self.0 & flag.bit() != 0
    }

    pub fn insert(&mut self, flag: Flag) {
        self.0 |= flag.bit();
    }

    /// The flags in the set, in the order they are shown.
    pub fn iter(self) -> impl Iterator<Item = Flag> {
        Flag::ALL.into_iter().filter(move |f| self.contains(*f))
    }

    /// The names of the flags in the set, in the order they are shown.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        self.iter().map(Flag::name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_in_the_contracts_order() {
        let names: Vec<&str> = Flag::ALL.iter().map(|f| f.name()).collect();
        assert_eq!(
            names,
            [
                "new-ip",
                "password-change",
                "settings-change",
                "email-change",
                "oauth2-grant",
                "mfa-change",
                "recovery",
                "impossible-travel",
            ]
        );
        for (i, f) in Flag::ALL.iter().enumerate() {
            assert_eq!(*f as usize, i, "{f:?}");
        }
    }

    #[test]
    fn known_event_types_carry_their_flag() {
        assert_eq!(Flag::of_type("login.succeeded"), None);
        assert_eq!(Flag::of_type("mfa.removed"), Some(Flag::MfaChange));
        assert_eq!(Flag::of_type("oidc.linked"), Some(Flag::SettingsChange));
        for quiet in ["login.failed", "session.revoked", "app.custom_event"] {
            assert_eq!(Flag::of_type(quiet), None, "{quiet}");
        }
    }

    #[test]
    fn a_set_lists_its_flags_in_order() {
        let mut s = Flags::default();
        assert!(s.is_empty());
        s.insert(Flag::ImpossibleTravel);
        s.insert(Flag::NewIp);
        s.insert(Flag::NewIp);
        assert!(s.contains(Flag::NewIp) && !s.contains(Flag::Recovery));
        assert_eq!(
            s.names().collect::<Vec<_>>(),
            ["new-ip", "impossible-travel"]
        );
    }
}
