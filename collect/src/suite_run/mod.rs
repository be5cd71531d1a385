//! What `collect run` and `collect resume` do once their arguments are
//! parsed: the settings resolved and checked once ([`settings`]), the
//! platforms this host runs, from a run folder to a bundle ([`local`]),
//! and xen through the Xen lab off a dom0 ([`lab_part`]).

pub mod lab_part;
pub mod local;
pub mod settings;

pub use settings::{split, Settings, Split, SETTINGS_PATH};
