//! The one integration-test binary (one link step). Database tests run on SQLite and, when
//! `TEST_DATABASE_URL` is set, on PostgreSQL too.

mod common;
mod smtp;
mod stats;
mod web;

mod api_errors;
mod attack;
mod audit_log;
mod auth;
mod authz_matrix;
mod build;
mod cases;
mod children;
mod cli;
mod delivery;
mod demo;
mod duties;
mod e2e;
mod faults;
mod forms;
mod fuzz;
mod mfa;
mod notifications;
mod organisation;
mod pages;
mod protection;
mod routines;
