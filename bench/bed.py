"""--bed for every benchmark: run it inside the nested KVM test bed.

A bench's main() calls run_in_bed_if_asked() first. With --bed on the
command line, the same script runs inside scripts/kvm-bed (QEMU TCG with
emulated AMD SVM, whose kvm_amd gives /dev/kvm), kvmini and QEMU side by
side on the same L1, and its figures are labelled as nested-TCG ratios:
absolute times there are TCG times, not hardware times.
"""
import os
import subprocess
import sys

LABEL = ("NESTED-TCG BED (scripts/kvm-bed): kvmini and QEMU ran side by side on one "
         "TCG-emulated L1; compare the ratios only, never the absolute times")


def run_in_bed_if_asked():
    if os.environ.get("KVMINI_IN_BED"):
        print(LABEL, flush=True)
        return
    if "--bed" not in sys.argv[1:]:
        return
    args = [a for a in sys.argv[1:] if a != "--bed"]
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(here)
    script = os.path.relpath(os.path.abspath(sys.argv[0]), root)
    rc = subprocess.call([os.path.join(root, "scripts", "kvm-bed"), "--",
                          "python3", script] + args, cwd=root)
    print(LABEL)
    sys.exit(rc)
