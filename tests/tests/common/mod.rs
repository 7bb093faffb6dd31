//! Helpers shared by end-to-end tests: a hostile peer (`rogue`), the
//! broker's web endpoint with scripted clients (`web_socket`).
#![allow(dead_code)]

pub mod rogue;
pub mod web_socket;
