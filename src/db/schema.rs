//! The portable schema: one hand-written description of the tables that both backends' migrations create.

diesel::table! {
    counties (code) {
        code -> Text,
        letter -> Text,
        name -> Text,
        police_email -> Nullable<Text>,
        police_fallback_email -> Nullable<Text>,
        migrationsverket_email -> Nullable<Text>,
        trafficking_coordinator_email -> Nullable<Text>,
        county_email -> Nullable<Text>,
    }
}

diesel::table! {
    municipalities (code) {
        code -> Text,
        name -> Text,
        county_code -> Text,
        social_services_email -> Nullable<Text>,
        on_call_email -> Nullable<Text>,
    }
}

diesel::table! {
    accommodations (id) {
        id -> BigInt,
        name -> Text,
        kind -> Text,
        municipality_code -> Text,
        phone -> Text,
        email -> Text,
        active -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        email -> Text,
        name -> Text,
        password_hash -> Text,
        role -> Text,
        county_code -> Nullable<Text>,
        municipality_code -> Nullable<Text>,
        accommodation_id -> Nullable<BigInt>,
        security_stamp -> Text,
        active -> Bool,
        language -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    audit_head (id) {
        id -> Integer,
        seq -> BigInt,
        last_hash -> Text,
    }
}

diesel::table! {
    access_log (seq) {
        seq -> BigInt,
        at -> Timestamp,
        actor_user_id -> Nullable<BigInt>,
        actor_role -> Nullable<Text>,
        action -> Text,
        object_kind -> Nullable<Text>,
        object_id -> Nullable<Text>,
        county_code -> Nullable<Text>,
        ip -> Nullable<Text>,
        detail -> Nullable<Text>,
        prev_hash -> Text,
        hash -> Text,
    }
}

diesel::joinable!(municipalities -> counties (county_code));
diesel::joinable!(accommodations -> municipalities (municipality_code));
diesel::joinable!(users -> accommodations (accommodation_id));

diesel::allow_tables_to_appear_in_same_query!(counties, municipalities, accommodations, users, audit_head, access_log,);
