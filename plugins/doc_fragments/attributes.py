# Copyright: etcd_ops.etcd contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/etcd_ops.etcd.etcd) in C(module_defaults) to set the connection options once.
    support: full
    membership:
      - etcd_ops.etcd.etcd
"""

    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    description: The module only reads; check mode runs it as usual.
    support: full
  diff_mode:
    description: Nothing changes, so there is no diff.
    support: none
"""
