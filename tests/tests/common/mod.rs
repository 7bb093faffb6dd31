//! Helpers shared by the end-to-end tests that play a hostile peer.
#![allow(dead_code)]

pub mod rogue;
