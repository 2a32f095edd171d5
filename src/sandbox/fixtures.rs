//! Deterministic seed data: base images with realistic Rackspace system metadata in DFW and
//! ORD, the servers `web-01`, `web-02`, `db-01` (DFW) and `web-03` (ORD), and one snapshot.

use std::collections::BTreeMap;

use super::clock::at;
use super::snapshot;
use super::store::{Data, Image, Server, Store};

/// Tenant and user of the default `demo` account.
pub(crate) const DEMO_TENANT: &str = "123456";
pub(crate) const DEMO_USER_ID: &str = "172157";

/// Regions the sandbox serves.
pub(crate) const REGIONS: [&str; 2] = ["DFW", "ORD"];

/// Fixture ids other modules' tests may rely on.
pub mod ids {
    pub const CENTOS7_DFW: &str = "cd5a4063-c1ba-4514-b57b-5091dd1edb63";
    pub const UBUNTU1504_DFW: &str = "0495ec05-e50f-4f56-afe8-2d10b222a091";
    pub const UBUNTU1404_DFW: &str = "98671d89-8be2-4baf-ace4-136be6f3db7a";
    pub const CENTOS7_ORD: &str = "83f77c48-53f0-4690-8a49-57ace767a49c";
    pub const UBUNTU1504_ORD: &str = "1126c304-0072-43c0-9886-27d9691cd186";
    pub const WEB01: &str = "a3902a98-1da9-46bd-8b67-388f2b5dd1cb";
    pub const WEB02: &str = "0ed4b642-6dc2-44ac-bdcb-b6854f28e9cb";
    pub const DB01: &str = "da3a9e3e-7f9d-4ad9-af71-6f89f2113acf";
    pub const WEB03: &str = "9e90684a-e638-45a6-aea9-a8823afe59b6";
    pub const WEB01_GOLDEN: &str = "59efc252-9f1c-4d78-8db2-562937c835d4";
}

struct BaseSpec {
    name: &'static str,
    ids: [&'static str; 2],
    os_type: &'static str,
    distro: &'static str,
    version: &'static str,
    release_id: &'static str,
    min_disk: u64,
    min_ram: u64,
    size: u64,
    auto_disk: &'static str,
    created: &'static str,
}

const BASES: [BaseSpec; 7] = [
    BaseSpec {
        name: "CentOS 7 (PVHVM)",
        ids: [ids::CENTOS7_DFW, ids::CENTOS7_ORD],
        os_type: "linux",
        distro: "org.centos",
        version: "7",
        release_id: "1001",
        min_disk: 20,
        min_ram: 512,
        size: 1_041_424_896,
        auto_disk: "True",
        created: "2015-06-19T20:21:09Z",
    },
    BaseSpec {
        name: "Ubuntu 15.04 (Vivid Vervet) (PVHVM)",
        ids: [ids::UBUNTU1504_DFW, ids::UBUNTU1504_ORD],
        os_type: "linux",
        distro: "com.ubuntu",
        version: "15.04",
        release_id: "1002",
        min_disk: 20,
        min_ram: 512,
        size: 672_138_240,
        auto_disk: "True",
        created: "2015-06-23T15:02:33Z",
    },
    BaseSpec {
        name: "Ubuntu 14.04 LTS (Trusty Tahr) (PVHVM)",
        ids: [ids::UBUNTU1404_DFW, "5fba7f31-85d6-441d-b893-42a834e1edc7"],
        os_type: "linux",
        distro: "com.ubuntu",
        version: "14.04",
        release_id: "1003",
        min_disk: 20,
        min_ram: 512,
        size: 701_497_344,
        auto_disk: "True",
        created: "2015-06-24T09:11:45Z",
    },
    BaseSpec {
        name: "Debian 8 (Jessie) (PVHVM)",
        ids: [
            "344c67e8-a02b-4638-a4f3-116a05215ed8",
            "9a75b7f2-6963-4bb8-9967-316f716b001f",
        ],
        os_type: "linux",
        distro: "org.debian",
        version: "8",
        release_id: "1004",
        min_disk: 20,
        min_ram: 512,
        size: 598_736_384,
        auto_disk: "True",
        created: "2015-06-25T11:40:02Z",
    },
    BaseSpec {
        name: "Fedora 22 (PVHVM)",
        ids: [
            "fae67226-7a7f-4a8d-97e7-c71e8c8f7af6",
            "c293a9e5-9d38-49b7-bb32-b97f30933447",
        ],
        os_type: "linux",
        distro: "org.fedoraproject",
        version: "22",
        release_id: "1005",
        min_disk: 20,
        min_ram: 512,
        size: 812_646_400,
        auto_disk: "True",
        created: "2015-06-26T08:05:19Z",
    },
    BaseSpec {
        name: "Windows Server 2012 R2",
        ids: [
            "822d75dc-6268-4863-8815-fb28048b24f0",
            "8e30108d-b054-4630-b877-0967790feafb",
        ],
        os_type: "windows",
        distro: "com.microsoft.server",
        version: "2012.2",
        release_id: "1006",
        min_disk: 40,
        min_ram: 1024,
        size: 5_562_828_800,
        auto_disk: "False",
        created: "2015-06-30T17:30:00Z",
    },
    BaseSpec {
        name: "CoreOS (Alpha)",
        ids: [
            "a8a59a03-9c3e-4cbf-aa70-f94da2f09432",
            "b4a5338e-aff4-4b31-a08c-873589bda213",
        ],
        os_type: "linux",
        distro: "com.coreos",
        version: "alpha",
        release_id: "1007",
        min_disk: 20,
        min_ram: 512,
        size: 198_846_343,
        auto_disk: "disabled",
        created: "2015-07-09T14:48:20Z",
    },
];

fn base_metadata(b: &BaseSpec) -> BTreeMap<String, String> {
    let short = b.distro.rsplit('.').next().unwrap_or(b.distro);
    let pairs = [
        ("image_type", "base"),
        ("os_type", b.os_type),
        ("os_distro", short),
        ("org.openstack__1__os_distro", b.distro),
        ("org.openstack__1__os_version", b.version),
        ("org.openstack__1__architecture", "x64"),
        ("com.rackspace__1__build_core", "1"),
        ("com.rackspace__1__build_managed", "1"),
        ("com.rackspace__1__release_id", b.release_id),
        ("com.rackspace__1__release_version", "1"),
        ("com.rackspace__1__source", "kickstart"),
        ("com.rackspace__1__visible_core", "1"),
        ("auto_disk_config", b.auto_disk),
        ("vm_mode", "hvm"),
        ("flavor_classes", "*,!onmetal"),
        ("cache_in_nova", "True"),
    ];
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn base_images() -> Vec<Image> {
    let mut out = Vec::new();
    let mut seq = 0;
    for (r, region) in REGIONS.iter().enumerate() {
        for b in &BASES {
            seq += 1;
            let t = at(b.created);
            out.push(Image {
                id: b.ids[r].to_string(),
                seq,
                region: region.to_string(),
                owner: None,
                name: b.name.to_string(),
                status: "active".into(),
                created: t,
                updated: t,
                ready_at: None,
                fail: false,
                fault: None,
                server_id: None,
                min_disk: b.min_disk,
                min_ram: b.min_ram,
                size: b.size,
                protected: true,
                visibility: "public".into(),
                disk_format: "vhd".into(),
                container_format: "ovf".into(),
                tags: Vec::new(),
                metadata: base_metadata(b),
                checksum: Some(format!(
                    "{:032x}",
                    b.size.wrapping_mul(0x9e37_79b9_7f4a_7c15)
                )),
            });
        }
    }
    out
}

fn server(id: &str, region: &str, name: &str, image_id: &str, n: u8, created: &str) -> Server {
    let t = at(created);
    Server {
        id: id.into(),
        region: region.into(),
        name: name.into(),
        image_id: image_id.into(),
        flavor_id: "general1-1".into(),
        flavor_ram: 1024,
        flavor_disk: 20,
        flavor_vcpus: 1,
        created: t,
        updated: t,
        ipv4: format!("198.51.100.{}", 10 + n),
        ipv6: format!("2001:db8::{}", 10 + n),
        private_ipv4: format!("10.176.0.{}", 10 + n),
        host_id: format!("{:056x}", (n as u64 + 1) * 0x5bd1_e995),
        metadata: BTreeMap::new(),
        schedule: None,
    }
}

/// A fresh store: base images, servers and the `web-01-golden` snapshot (owned by `demo`).
pub(crate) fn fixture_data() -> Data {
    let servers = vec![
        server(
            ids::WEB01,
            "DFW",
            "web-01",
            ids::CENTOS7_DFW,
            1,
            "2015-07-01T10:00:00Z",
        ),
        server(
            ids::WEB02,
            "DFW",
            "web-02",
            ids::CENTOS7_DFW,
            2,
            "2015-07-01T10:05:00Z",
        ),
        server(
            ids::DB01,
            "DFW",
            "db-01",
            ids::UBUNTU1404_DFW,
            3,
            "2015-07-02T09:30:00Z",
        ),
        server(
            ids::WEB03,
            "ORD",
            "web-03",
            ids::UBUNTU1504_ORD,
            4,
            "2015-07-03T12:00:00Z",
        ),
    ];
    let images = base_images();
    let mut data = Store::new_data(servers, images);
    let golden = snapshot::SnapshotSpec {
        id: ids::WEB01_GOLDEN.into(),
        name: "web-01-golden".into(),
        metadata: BTreeMap::from([("role".to_string(), "web".to_string())]),
        tenant: DEMO_TENANT.into(),
        user_id: DEMO_USER_ID.into(),
        created: at("2015-07-09T10:18:04Z"),
        duration_secs: 0.0,
        fail: false,
    };
    if let Some(img) = snapshot::build(&mut data, "DFW", ids::WEB01, golden) {
        data.push_image(img);
    }
    data.settle(at("2015-07-09T10:18:04Z"));
    data
}

/// The fixtures plus a fleet: `servers` servers `srv-00001` … in DFW and `images` active
/// snapshots `fleet-000001` … spread over them (over the fixture servers of DFW when there
/// are none), owned by `demo`. Deterministic ids, so benchmarks can be compared.
pub(crate) fn fleet_data(servers: usize, images: usize) -> Data {
    let mut data = fixture_data();
    let t = at("2015-08-01T00:00:00Z");
    for i in 1..=servers {
        let mut s = server(
            &format!("5e000000-0000-4000-8000-{i:012x}"),
            "DFW",
            &format!("srv-{i:05}"),
            ids::CENTOS7_DFW,
            0,
            "2015-08-01T00:00:00Z",
        );
        s.ipv4 = format!("198.18.{}.{}", (i >> 8) & 0xff, i & 0xff);
        s.private_ipv4 = format!("10.{}.{}.{}", (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff);
        s.ipv6 = format!("2001:db8:1::{i:x}");
        s.host_id = format!("{:056x}", (i as u64 + 100) * 0x5bd1_e995);
        data.push_server(s);
    }
    let owners: Vec<String> = if servers > 0 {
        (1..=servers)
            .map(|i| format!("5e000000-0000-4000-8000-{i:012x}"))
            .collect()
    } else {
        data.servers()
            .iter()
            .filter(|s| s.region == "DFW")
            .map(|s| s.id.clone())
            .collect()
    };
    for j in 1..=images {
        let spec = snapshot::SnapshotSpec {
            id: format!("f1ee0000-0000-4000-8000-{j:012x}"),
            name: format!("fleet-{j:06}"),
            metadata: BTreeMap::new(),
            tenant: DEMO_TENANT.into(),
            user_id: DEMO_USER_ID.into(),
            created: t,
            duration_secs: 0.0,
            fail: false,
        };
        if let Some(img) = snapshot::build(&mut data, "DFW", &owners[(j - 1) % owners.len()], spec)
        {
            data.push_image(img);
        }
    }
    data.settle(t);
    data
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixtures_are_deterministic_and_complete() {
        let a = serde_json::to_string(&fixture_data()).unwrap();
        let b = serde_json::to_string(&fixture_data()).unwrap();
        assert_eq!(a, b);
        let d = fixture_data();
        assert_eq!(d.servers().len(), 4);
        assert_eq!(d.images().len(), 15);
        let golden = d
            .images()
            .iter()
            .find(|i| i.id == ids::WEB01_GOLDEN)
            .unwrap();
        assert_eq!(golden.status, "active");
        assert_eq!(golden.metadata["image_type"], "snapshot");
        assert_eq!(golden.metadata["instance_uuid"], ids::WEB01);
        assert!(!golden.metadata.contains_key("cache_in_nova"));
    }
}
