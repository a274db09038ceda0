//! The Kratos/Hydra admin API double (being written).
