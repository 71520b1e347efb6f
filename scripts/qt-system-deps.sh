#!/bin/sh
# Install exactly the system libraries PySide6's Qt platform plugins cannot find, and nothing else.
#
# Why not a fixed list: Qt's xcb plugin links libraries (libxcb-icccm4, libxcb-keysyms1, ...) that a
# desktop may lack even when EGL, xkbcommon and fontconfig are present, and Qt >= 6.5 also dlopens
# libxcb-cursor0 at start-up (ldd cannot see that one). So: ldd the plugins and Qt modules the app
# loads, collect the "not found" sonames, map each to its Debian/Ubuntu package, apt-get only those.
#
#   scripts/qt-system-deps.sh .venv/bin/python        (needs root for apt-get when something is missing)
set -eu
PY=${1:-.venv/bin/python}
QT=$("$PY" -c 'import pathlib, PySide6; print(pathlib.Path(PySide6.__file__).parent)')
CHECKED="$QT/Qt/plugins/platforms/libqxcb.so $QT/Qt/plugins/platforms/libqoffscreen.so $QT/QtCore.abi3.so $QT/QtGui.abi3.so $QT/QtWidgets.abi3.so $QT/QtSvg.abi3.so"
missing=$(for f in $CHECKED; do [ -e "$f" ] && ldd "$f"; done | awk '/not found/ {print $1}' | sort -u)
if ! ldconfig -p | grep -q 'libxcb-cursor\.so\.0'; then
    missing="$missing libxcb-cursor.so.0"  # dlopened by the xcb plugin, invisible to ldd
fi

package_of() {  # soname -> Debian package: libxcb-icccm.so.4 -> libxcb-icccm4, libdbus-1.so.3 -> libdbus-1-3
    case "$1" in
        libglib-2.0.so.*) echo libglib2.0-0 ;;
        libgthread-2.0.so.*|libgobject-2.0.so.*) echo libglib2.0-0 ;;
        *)
            base=${1%%.so.*}
            version=${1##*.so.}
            version=${version%%.*}
            case "$base" in *[0-9]) sep=- ;; *) sep= ;; esac
            echo "$base$sep$version" | tr 'A-Z_' 'a-z-'
            ;;
    esac
}

packages=$(for lib in $missing; do package_of "$lib"; done | sort -u | tr '\n' ' ')
if [ -z "$packages" ]; then
    echo "Qt system libraries: all present"
    exit 0
fi
echo "Qt cannot find: $(echo $missing | tr '\n' ' ')"
echo "Installing: $packages(apt-get, needs root)"
SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $packages >/dev/null
still=$(for f in $CHECKED; do [ -e "$f" ] && ldd "$f"; done | awk '/not found/ {print $1}' | sort -u | tr '\n' ' ')
if [ -n "$still" ]; then
    echo "error: still not found after installing: $still" >&2
    exit 1
fi
echo "Qt system libraries: installed"
