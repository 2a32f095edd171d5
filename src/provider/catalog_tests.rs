//! Catalog selection against fixtures written from REFERENCE.md §2.2 and a Keystone v3 token.

use super::*;
use serde_json::json;

fn rackspace() -> Value {
    serde_json::from_str(include_str!("testdata/identity_v2_rackspace.json")).unwrap()
}

fn openstack() -> Value {
    serde_json::from_str(include_str!("testdata/identity_v3_openstack.json")).unwrap()
}

#[test]
fn rackspace_picks_cloud_servers_openstack_not_first_gen() {
    let e = select(
        Preset::Rackspace,
        Preset::Rackspace,
        &rackspace(),
        "DFW",
        "public",
    )
    .unwrap();
    assert_eq!(
        e.compute.as_str(),
        "https://dfw.servers.api.rackspacecloud.com/v2/123456"
    );
    assert_eq!(
        e.image.unwrap().as_str(),
        "https://dfw.images.api.rackspacecloud.com/v2"
    );
}

#[test]
fn region_matches_case_insensitively() {
    let e = select(
        Preset::Rackspace,
        Preset::Rackspace,
        &rackspace(),
        "ord",
        "public",
    )
    .unwrap();
    assert_eq!(
        e.compute.as_str(),
        "https://ord.servers.api.rackspacecloud.com/v2/123456"
    );
}

#[test]
fn no_image_endpoint_means_no_image_api() {
    let e = select(
        Preset::Rackspace,
        Preset::Rackspace,
        &rackspace(),
        "LON",
        "public",
    )
    .unwrap();
    assert_eq!(
        e.compute.as_str(),
        "https://lon.servers.api.rackspacecloud.com/v2/123456"
    );
    assert!(e.image.is_none());
}

#[test]
fn unknown_region_names_the_offered_regions() {
    let err = select(
        Preset::Rackspace,
        Preset::Rackspace,
        &rackspace(),
        "SYD",
        "public",
    )
    .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("no compute endpoint"), "{text}");
    assert!(text.contains("\"SYD\""), "{text}");
    assert!(text.contains("DFW, LON, ORD"), "{text}");
}

#[test]
fn without_rackspace_names_first_gen_v1_is_still_skipped() {
    let body = json!({"access": {"serviceCatalog": [
        {"name": "cloudServers", "type": "compute", "endpoints": [
            {"publicURL": "https://old.example.com/v1.0/1", "versionId": "1.0"}]},
        {"name": "nova", "type": "compute", "endpoints": [
            {"region": "DFW", "publicURL": "https://new.example.com/v2/1"}]}
    ]}});
    let e = select(Preset::Rackspace, Preset::Rackspace, &body, "DFW", "public").unwrap();
    assert_eq!(e.compute.as_str(), "https://new.example.com/v2/1");
}

#[test]
fn two_endpoints_for_one_region_are_ambiguous() {
    let body = json!({"access": {"serviceCatalog": [
        {"name": "cloudServersOpenStack", "type": "compute", "endpoints": [
            {"region": "DFW", "publicURL": "https://a.example.com/v2/1"},
            {"region": "dfw", "publicURL": "https://b.example.com/v2/1"}]}
    ]}});
    let err = select(Preset::Rackspace, Preset::Rackspace, &body, "DFW", "public").unwrap_err();
    assert!(err.to_string().contains("expected one"), "{err}");
}

#[test]
fn regionless_endpoint_serves_every_region() {
    let body = json!({"access": {"serviceCatalog": [
        {"name": "cloudServersOpenStack", "type": "compute", "endpoints": [
            {"publicURL": "http://127.0.0.1:9/v2/1", "versionId": "2"}]}
    ]}});
    let e = select(Preset::Rackspace, Preset::Rackspace, &body, "IAD", "public").unwrap();
    assert_eq!(e.compute.as_str(), "http://127.0.0.1:9/v2/1");
}

#[test]
fn openstack_uses_public_interface_and_region_id() {
    let e = select(
        Preset::Openstack,
        Preset::Openstack,
        &openstack(),
        "regionone",
        "public",
    )
    .unwrap();
    assert_eq!(e.compute.as_str(), "https://cloud.example.com:8774/v2.1");
    // The bare Glance root gets its API version appended.
    assert_eq!(
        e.image.unwrap().as_str(),
        "https://cloud.example.com:9292/v2"
    );
    let two = select(
        Preset::Openstack,
        Preset::Openstack,
        &openstack(),
        "RegionTwo",
        "public",
    )
    .unwrap();
    assert_eq!(two.compute.as_str(), "https://two.example.com:8774/v2.1");
    assert!(two.image.is_none());
}

#[test]
fn empty_catalog_is_a_catalog_error() {
    let err = select(
        Preset::Openstack,
        Preset::Openstack,
        &json!({"token": {}}),
        "RegionOne",
        "public",
    )
    .unwrap_err();
    assert!(matches!(err, ProviderError::Catalog(_)));
}

#[test]
fn versioned_image_urls_are_kept() {
    for (input, want) in [
        ("https://i.example.com/v2", "https://i.example.com/v2"),
        ("https://i.example.com/v2/", "https://i.example.com/v2/"),
        ("https://i.example.com/v2.1", "https://i.example.com/v2.1"),
        ("https://i.example.com/", "https://i.example.com/v2"),
        (
            "https://i.example.com/image",
            "https://i.example.com/image/v2",
        ),
    ] {
        let got = versioned_image_url(Url::parse(input).unwrap());
        assert_eq!(got.as_str(), want, "{input}");
    }
}
