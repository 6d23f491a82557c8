#!/bin/sh
# Remove what install.sh put in place: the app folder, the `studio` link, the desktop
# entry, icons, MIME type and metainfo. Your data folder (spaces, keys, logs) is kept.
set -eu

OPT_ROOT=${FORGE_STUDIO_OPT:-$HOME/.local/opt}
OPT=$OPT_ROOT/forge-studio
DATA=${XDG_DATA_HOME:-$HOME/.local/share}
MANIFEST=$OPT/.installed-files

if [ ! -f "$MANIFEST" ]; then
    echo "uninstall.sh: Forge Studio is not installed in $OPT" >&2
    exit 1
fi
while IFS= read -r path; do
    case $path in
        */studio)  # the command link: only when it still points at this copy
            [ "$(readlink -- "$path" 2>/dev/null || true)" = "$OPT/studio" ] && rm -f -- "$path" ;;
        *) rm -f -- "$path" ;;
    esac
done < "$MANIFEST"
rm -rf -- "$OPT"

if command -v update-mime-database >/dev/null 2>&1; then update-mime-database "$DATA/mime" >/dev/null 2>&1 || true; fi
if command -v update-desktop-database >/dev/null 2>&1; then update-desktop-database "$DATA/applications" >/dev/null 2>&1 || true; fi
if command -v gtk-update-icon-cache >/dev/null 2>&1; then gtk-update-icon-cache -q -t -f "$DATA/icons/hicolor" >/dev/null 2>&1 || true; fi
echo "Forge Studio is removed (your data folder is kept)"
