//! Acknowledging a notification through its personal link: the path token is the only credential.

use super::command::Submitted;
use super::{AppError, AppResult};
use serde::Deserialize;

/// `POST /api/v1/ack/{token}` and the acknowledgement page's form.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct Acknowledge {
    /// who acknowledges
    #[schema(required = true)]
    pub name: Option<String>,
    /// for the police: the police reference number
    pub reference: Option<String>,
}
use crate::state::AppState;
use crate::store::delivery::{self as worker, AckOutcome};

/// Records the acknowledgement (name, and for the police their reference) once; a used or expired token
/// is `Gone`, an unknown one `Unknown`.
pub async fn record(
    st: &AppState,
    token: &str,
    input: Submitted<Acknowledge>,
    ip: Option<String>,
) -> AppResult<AckOutcome> {
    let a = input.valid(|a, ck| {
        ck.req_text("name", &mut a.name, 200);
        ck.text("reference", &mut a.reference, 64);
    })?;
    let (name, reference) = (a.name.unwrap_or_default(), a.reference);
    let now = st.clock.now();
    let t = token.to_string();
    let out = st
        .db
        .run(move |c| worker::acknowledge(c, &t, &name, reference.as_deref(), ip, now).map_err(AppError::from))
        .await?;
    Ok(out)
}
