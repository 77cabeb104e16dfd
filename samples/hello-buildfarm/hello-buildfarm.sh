#!/bin/sh
# hello-buildfarm: the BuildFarm sample package. Prints a greeting, optionally to a name.
set -eu
name=${1:-world}
printf 'Hello, %s, from a package built by BuildFarm.\n' "$name"
