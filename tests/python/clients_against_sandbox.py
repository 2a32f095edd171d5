"""Drive the real Rackspace Python clients against a running snapform sandbox.

Usage: python clients_against_sandbox.py http://127.0.0.1:PORT

Uses python-novaclient 2.27.0 with the rackspace-auth-openstack plugin and the
rax_scheduled_images_python_novaclient_ext extension, then pyrax 1.10.0 (compute and
Cloud Images). Every check raises on failure; the last line printed is
"N passed, 0 failed".
"""

import inspect
import json
import sys
import time
import urllib.request

# novaclient 2.27 (2015) calls inspect.getargspec, which Python 3.11 removed; its callers
# only read `.args`, which getfullargspec also has.
if not hasattr(inspect, "getargspec"):
    inspect.getargspec = inspect.getfullargspec

BASE = sys.argv[1].rstrip("/")
AUTH_URL = BASE + "/v2.0/"
TENANT = "123456"
WEB01 = "a3902a98-1da9-46bd-8b67-388f2b5dd1cb"
WEB02 = "0ed4b642-6dc2-44ac-bdcb-b6854f28e9cb"
DB01 = "da3a9e3e-7f9d-4ad9-af71-6f89f2113acf"
CENTOS7 = "cd5a4063-c1ba-4514-b57b-5091dd1edb63"
GOLDEN = "59efc252-9f1c-4d78-8db2-562937c835d4"

PASSED = []


def check(name, cond, detail=""):
    if not cond:
        raise AssertionError("%s failed %s" % (name, detail))
    PASSED.append(name)
    print("ok   %s" % name)


def control(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + "/sandbox/v1" + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=30) as resp:
        text = resp.read().decode()
        return json.loads(text) if text else None


def novaclient_checks():
    from novaclient import client as nova_client
    from novaclient import exceptions as nova_exc
    from rackspace_auth_openstack import plugin as rax_plugin

    extensions = nova_client.discover_extensions("2")
    names = [e.name for e in extensions]
    check("novaclient finds the scheduled-images extension",
          "rax_scheduled_images_python_novaclient_ext" in names, names)
    nova = nova_client.Client(
        "2", "demo", "demo", TENANT, AUTH_URL, region_name="DFW",
        auth_system="rackspace", auth_plugin=rax_plugin.RackspaceAuthPlugin(),
        service_type="compute", extensions=extensions)
    nova.authenticate()
    check("novaclient authenticates with RAX-KSKEY",
          nova.client.management_url.endswith("/DFW/compute/v2/" + TENANT),
          nova.client.management_url)

    # Images: list (detail), show, filters through the manager.
    images = nova.images.list()
    by_name = dict((i.name, i) for i in images)
    check("images.list returns the fixtures", "CentOS 7 (PVHVM)" in by_name, list(by_name))
    centos = nova.images.get(CENTOS7)
    check("images.get", centos.name == "CentOS 7 (PVHVM)" and centos.status == "ACTIVE")
    check("image metadata values are strings",
          all(isinstance(v, str) for v in centos.metadata.values()))
    check("base image has no server", not hasattr(centos, "server"))
    page = nova.images.list(limit=2)
    check("images.list(limit=2)", len(page) == 2)
    nxt = nova.images.list(limit=2, marker=page[-1].id)
    check("images.list(marker=...)", len(nxt) == 2 and nxt[0].id not in [p.id for p in page])

    # Metadata: set_meta (POST merge) and delete_meta (one DELETE per key).
    golden = nova.images.get(GOLDEN)
    try:
        nova.images.set_meta(golden, {"owner": "ops", "tier": "gold"})
    except AttributeError:
        pass  # novaclient 2.27 fails wrapping the response; the request went out.
    golden = nova.images.get(GOLDEN)
    check("images.set_meta merges", golden.metadata.get("owner") == "ops"
          and golden.metadata.get("role") == "web", golden.metadata)
    nova.images.delete_meta(golden, ["owner", "tier"])
    golden = nova.images.get(GOLDEN)
    check("images.delete_meta", "owner" not in golden.metadata and "tier" not in golden.metadata)
    try:
        nova.images.get("00000000-0000-0000-0000-000000000000")
        check("images.get unknown raises NotFound", False)
    except nova_exc.NotFound as e:
        check("images.get unknown raises NotFound", "Image not found" in str(e), str(e))

    # Servers and createImage.
    servers = nova.servers.list()
    check("servers.list", sorted(s.name for s in servers) == ["db-01", "web-01", "web-02"])
    web01 = nova.servers.find(name="web-01")
    check("servers.find", web01.id == WEB01)
    image_id = nova.servers.create_image(web01, "py-nova-snap", {"made_by": "novaclient"})
    check("servers.create_image returns the id from Location", len(image_id) == 36, image_id)
    snap = nova.images.get(image_id)
    check("new snapshot is SAVING with a server", snap.status == "SAVING"
          and snap.server["id"] == WEB01 and snap.metadata["image_type"] == "snapshot")
    try:
        nova.servers.create_image(web01, "second", {})
        check("second createImage conflicts", False)
    except nova_exc.Conflict:
        check("second createImage conflicts", True)
    control("POST", "/clock", {"advance_seconds": 5})
    snap = nova.images.get(image_id)
    check("snapshot becomes ACTIVE", snap.status == "ACTIVE" and snap.progress == 100)
    nova.images.delete(image_id)
    try:
        nova.images.get(image_id)
        check("deleted snapshot is gone", False)
    except nova_exc.NotFound:
        check("deleted snapshot is gone", True)

    # Scheduled images through the extension.
    si = nova.rax_scheduled_images_python_novaclient_ext
    try:
        si.get(DB01)
        check("schedule get before enable is NotFound", False)
    except nova_exc.NotFound as e:
        check("schedule get before enable is NotFound",
              "Scheduled images not enabled for server" in str(e), str(e))
    sched = si.enable(DB01, 7)
    check("schedule enable (daily)", sched.retention == 7 and not hasattr(sched, "day_of_week"))
    sched = si.enable(DB01, 5, "saturday")
    check("schedule enable (weekly)", sched.retention == 5 and sched.day_of_week == "SATURDAY")
    sched = si.get(DB01)
    check("schedule get", sched.retention == 5 and sched.day_of_week == "SATURDAY")
    try:
        si.enable(DB01, 0)
        check("retention 0 is rejected by the server", False)
    except nova_exc.BadRequest as e:
        check("retention 0 is rejected by the server", "greater than 0" in str(e), str(e))
    si.disable(DB01)
    try:
        si.disable(DB01)
        check("disable twice is NotFound", False)
    except nova_exc.NotFound as e:
        check("disable twice is NotFound", "Image schedule does not exist" in str(e), str(e))


def pyrax_checks():
    import pyrax

    pyrax.set_setting("identity_type", "rackspace")
    pyrax.set_setting("auth_endpoint", AUTH_URL)
    pyrax.set_setting("region", "DFW")
    pyrax.set_setting("verify_ssl", False)
    pyrax.set_credentials("demo", "demo", region="DFW")
    check("pyrax authenticates", pyrax.identity.authenticated and pyrax.identity.tenant_id == TENANT)
    cs = pyrax.cloudservers
    check("pyrax picked the v2 compute endpoint",
          cs.client.management_url.endswith("/DFW/compute/v2/" + TENANT), cs.client.management_url)
    base = cs.list_base_images()
    snaps = cs.list_snapshots()
    check("pyrax list_base_images", len(base) == 7, [i.name for i in base])
    check("pyrax list_snapshots", [i.id for i in snaps] == [GOLDEN], [i.name for i in snaps])
    web02 = cs.servers.get(WEB02)
    image_id = cs.servers.create_image(web02, "py-pyrax-snap")
    check("pyrax create_image", cs.images.get(image_id).status == "SAVING")
    control("POST", "/clock", {"advance_seconds": 5})
    check("pyrax snapshot ACTIVE", cs.images.get(image_id).status == "ACTIVE")

    imgs = pyrax.images
    listed = imgs.list()
    check("pyrax Cloud Images list", any(i.id == GOLDEN for i in listed), [i.id for i in listed])
    # More than one page (the Image API page size is 100) so list_all must follow `next`.
    control("PUT", "/faults", {"snapshot_seconds": 0})
    for n in range(95):
        cs.servers.create_image(web02, "bulk-%02d" % n)
    control("DELETE", "/requests")
    everything = imgs.list_all()
    check("pyrax Cloud Images list_all follows next", len(everything) == 104, len(everything))
    pages = control("GET", "/requests")["by_route"].get("GET /v2/images")
    check("pyrax list_all made two page requests", pages == 2, pages)
    img = imgs.get(GOLDEN)
    check("pyrax Cloud Images get", img.status == "active" and img.image_type == "snapshot")
    imgs.update(img, {"owner_team": "infra", "role": "api"})
    img = imgs.get(GOLDEN)
    check("pyrax Cloud Images update (JSON patch)",
          img.owner_team == "infra" and img.role == "api")
    imgs.delete(image_id)
    check("pyrax Cloud Images delete", all(i.id != image_id for i in imgs.list_all()))


def main():
    control("POST", "/reset")
    control("PUT", "/faults", {"snapshot_seconds": 2})
    novaclient_checks()
    control("POST", "/reset")
    pyrax_checks()
    print("%d passed, 0 failed" % len(PASSED))


if __name__ == "__main__":
    started = time.time()
    main()
    sys.stderr.write("python clients finished in %.1fs\n" % (time.time() - started))
