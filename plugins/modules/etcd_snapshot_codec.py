#!/usr/bin/python
# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: etcd_snapshot_codec
short_description: Compress and encrypt an etcd snapshot for off-site storage, or turn such a copy back
version_added: 0.1.0
description:
  - O(operation=encode) writes O(src) (a snapshot) compressed with C(zstd) and/or encrypted with C(age) to the
    public keys O(recipients) into O(dest), 0600, under a hidden name first and renamed when complete; it returns
    the encoded file's sha256 and size, for the object's checksum.
  - O(operation=decode) first checks the sha256 of O(src) (the encoded copy) against O(expected_sha256) when
    given, so a changed object is refused before it is decrypted; then it decrypts it with the C(age) identity in
    O(identity_file) and decompresses it into O(dest) (0600, renamed when complete). age authenticates every
    chunk, so a copy changed after encryption, or not encrypted for that identity, fails with age's reason and
    leaves no O(dest).
  - Streams through the tools (memory flat in the snapshot's size). Needs C(zstd) and C(age) on the host it runs
    on (the controller; Debian packages C(zstd), C(age)).
  - The snapshot's own checks (its sha256 sidecar, etcd's hash) are not this module's; run
    M(etcd_ops.etcd.etcd_snapshot_info) on the decoded file.
options:
  operation:
    description: V(encode) a snapshot, or V(decode) an encoded copy.
    type: str
    required: true
    choices: [encode, decode]
  src:
    description: The file to read. Either O(src), O(content) or O(content_base64) is given.
    type: path
  content:
    description:
      - For O(operation=encode), the text to encrypt instead of a file (the recovery bundle's keys), written to the
        pipeline's input and never to a file in plain. It needs O(recipients). It is never logged.
    type: str
  content_base64:
    description:
      - O(content), base64-encoded (what the roles pass). ansible-core before 2.19 hands a JSON text that reads as a
        Python dict over as the dict, whose every value it would then hide in the task's results (no_log).
      - Either O(src), O(content) or O(content_base64) is given.
    type: str
  dest:
    description: The file to write (replaced when it exists).
    type: path
    required: true
  compression:
    description: V(zstd) compresses (encode) or decompresses (decode); V(none) does not.
    type: str
    default: none
    choices: [none, zstd]
  zstd_level:
    description: The zstd level for O(operation=encode) (1 fastest to 19 smallest).
    type: int
    default: 3
  recipients:
    description:
      - For O(operation=encode), the age public keys (C(age1...)) or SSH public keys to encrypt to; any of their
        identities can decrypt. Empty means no encryption.
    type: list
    elements: str
    default: []
  identity_file:
    description:
      - For O(operation=decode) of an encrypted copy, the age identity file (C(age-keygen) output, or an SSH
        private key) on the host. Empty means the copy is not encrypted.
    type: path
  expected_sha256:
    description: For O(operation=decode), the sha256 O(src) must have (the object's, recorded at upload).
    type: str
attributes:
  check_mode:
    description: Nothing is written in check mode; the result says what would be.
    support: full
  diff_mode:
    description: There is no diff.
    support: none
author:
  - etcd_ops maintainers (@etcd-ops)
"""

EXAMPLES = r"""
- name: Encode a snapshot for the bucket
  etcd_ops.etcd.etcd_snapshot_codec:
    operation: encode
    src: /srv/etcd-backups/etcd-cluster-20261201T020000Z-r1234.db
    dest: /srv/etcd-backups/.outgoing-etcd-cluster-20261201T020000Z-r1234.db.zst.age
    compression: zstd
    recipients: [age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p]
  delegate_to: localhost
  register: encoded

- name: Decode the copy from the bucket
  etcd_ops.etcd.etcd_snapshot_codec:
    operation: decode
    src: /srv/etcd-backups/.incoming-etcd-cluster-20261201T020000Z-r1234.db.zst.age
    dest: /srv/etcd-backups/.incoming-etcd-cluster-20261201T020000Z-r1234.db
    compression: zstd
    identity_file: ~/.config/etcd-ops/age-identity.txt
    expected_sha256: "{{ encoded.sha256 }}"
  delegate_to: localhost
"""

RETURN = r"""
dest:
  description: The file written.
  returned: always
  type: str
size:
  description: Size of O(dest) in bytes.
  returned: success and not check mode
  type: int
sha256:
  description: The sha256 of O(dest) for O(operation=encode) (the object's checksum); of O(src) for O(operation=decode).
  returned: success and not check mode
  type: str
src_size:
  description: Size of O(src) in bytes.
  returned: success
  type: int
compression:
  description: V(zstd) or V(none).
  returned: always
  type: str
encryption:
  description: V(age) or V(none).
  returned: always
  type: str
commands:
  description: The pipeline that ran (no secret is in it; recipients are public keys).
  returned: always
  type: list
  elements: str
"""

import base64
import os
import shlex

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.etcd_ops.etcd.plugins.module_utils.etcd_snapshot_file import digests

# age's own words for the two failures an operator meets (age 1.1)
AGE_NO_IDENTITY = "no identity matched any of the recipients"
AGE_BAD_CHUNK = "failed to decrypt and authenticate"


def pipeline(module, p):
    """The argv of each stage, in order, for the operation."""
    stages = []
    if p["operation"] == "encode":
        if p["compression"] == "zstd":
            stages.append([module.get_bin_path("zstd", required=True), "-q", "-c", "-T0", "-%d" % p["zstd_level"]])
        if p["recipients"]:
            age = [module.get_bin_path("age", required=True), "--encrypt"]
            for recipient in p["recipients"]:
                age += ["--recipient", recipient]
            stages.append(age)
    else:
        if p["identity_file"]:
            stages.append([module.get_bin_path("age", required=True), "--decrypt", "--identity", p["identity_file"]])
        if p["compression"] == "zstd":
            stages.append([module.get_bin_path("zstd", required=True), "-q", "-d", "-c"])
    return stages


def shell_line(stages, src, dest):
    """The pipeline from `src` (None: from its standard input) to `dest`."""
    return "set -o pipefail; %s%s > %s" % (
        "< %s " % shlex.quote(src) if src else "", " | ".join(shlex.join(argv) for argv in stages), shlex.quote(dest))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            operation=dict(type="str", required=True, choices=["encode", "decode"]),
            src=dict(type="path"),
            content=dict(type="str", no_log=True),
            content_base64=dict(type="str", no_log=True),
            dest=dict(type="path", required=True),
            compression=dict(type="str", default="none", choices=["none", "zstd"]),
            zstd_level=dict(type="int", default=3),
            recipients=dict(type="list", elements="str", default=[]),
            identity_file=dict(type="path"),
            expected_sha256=dict(type="str"),
        ),
        supports_check_mode=True,
        required_one_of=[("src", "content", "content_base64")],
        mutually_exclusive=[("src", "content", "content_base64")],
    )
    p = module.params
    content = p["content"]
    if p["content_base64"] is not None:
        try:
            content = base64.b64decode(p["content_base64"], validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            module.fail_json(msg="content_base64 is not base64 of UTF-8 text.")
        module.no_log_values.add(content)
    encrypted = bool(p["recipients"]) if p["operation"] == "encode" else bool(p["identity_file"])
    result = dict(changed=False, dest=p["dest"], compression=p["compression"],
                  encryption="age" if encrypted else "none", commands=[])
    if content is not None and (p["operation"] != "encode" or not p["recipients"]):
        module.fail_json(msg="content is only encrypted, never written in plain: it needs operation=encode and "
                             "recipients. Fix: give the age public keys to encrypt it to.", **result)
    if p["compression"] == "none" and not encrypted:
        module.fail_json(msg="Nothing to %s: compression is none and there is no %s. Fix: set compression=zstd, or %s."
                         % (p["operation"], "recipient" if p["operation"] == "encode" else "identity_file",
                            "recipients" if p["operation"] == "encode" else "identity_file"), **result)
    if not 1 <= p["zstd_level"] <= 19:
        module.fail_json(msg="zstd_level %d is not between 1 and 19." % p["zstd_level"], **result)
    if p["src"] and not os.path.isfile(p["src"]):
        module.fail_json(msg="%s does not exist or is not a file." % p["src"], **result)
    if p["identity_file"] and not os.access(p["identity_file"], os.R_OK):
        module.fail_json(msg="The age identity file %s cannot be read. Fix: point identity_file at the private key "
                         "whose public key (age1...) the snapshot was encrypted to." % p["identity_file"], **result)
    result["src_size"] = os.path.getsize(p["src"]) if p["src"] else len(content.encode())
    stages = pipeline(module, p)

    if p["operation"] == "decode" and p["expected_sha256"]:
        got = digests(p["src"])["sha256"]
        if got != p["expected_sha256"].strip().lower():
            module.fail_json(msg="%s has sha256 %s, the object's recorded sha256 is %s: it was changed or damaged "
                             "after the upload, or in transit. Nothing was decoded."
                             % (p["src"], got, p["expected_sha256"]), **result)
    if module.check_mode:
        result.update(changed=True, commands=[shell_line(stages, p["src"], p["dest"])])
        module.exit_json(**result)

    tmp = os.path.join(os.path.dirname(p["dest"]) or ".", ".tmp-" + os.path.basename(p["dest"]))
    line = shell_line(stages, p["src"], tmp)
    result["commands"].append(line)
    old_umask = os.umask(0o077)  # the decoded snapshot holds every secret of the cluster: 0600 from its first byte
    try:
        rc, out, err = module.run_command(line, use_unsafe_shell=True, executable="/bin/bash",
                                          data=content, binary_data=True)
    finally:
        os.umask(old_umask)
    if rc:
        if os.path.exists(tmp):
            os.remove(tmp)  # our own half-written file
        lines = [line.strip() for line in err.splitlines() if line.strip() and "report unexpected" not in line]
        if any(line.startswith("age:") for line in lines):  # zstd's complaint about its cut input follows age's
            lines = [line for line in lines if line.startswith("age:")]
        msg = "%s of %s failed (rc %d): %s." % (p["operation"], p["src"] or "the content", rc,
                                                "; ".join(lines) or "no message")
        if AGE_NO_IDENTITY in err:
            msg += (" The copy is not encrypted to the identity in %s. Fix: use the private key of one of the "
                    "recipients the backup was encrypted to (its .json sidecar names them)." % p["identity_file"])
        elif AGE_BAD_CHUNK in err or "header" in err:
            msg += " The encrypted copy was changed or damaged: nothing was decoded from it; use another snapshot."
        module.fail_json(msg=msg, rc=rc, stderr=err, cmd=line, **result)
    os.chmod(tmp, 0o600)
    os.rename(tmp, p["dest"])
    if p["operation"] == "encode":
        out_digest = digests(p["dest"])
        result.update(size=out_digest["size"], sha256=out_digest["sha256"])
    else:
        result.update(size=os.path.getsize(p["dest"]), sha256=p["expected_sha256"] or digests(p["src"])["sha256"])
    result["changed"] = True
    module.exit_json(**result)


if __name__ == "__main__":
    main()
