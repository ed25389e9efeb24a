#!/usr/bin/env bash
# What 200 annotated classes add to a real build (the speed issue's compile-time target):
# packs StaticGrad, writes two consumer projects with the same 200 classes (180 [MatMul] of random shapes up to 64,
# float and double, and 20 two-layer networks), one with the attributes and one without, and times
# `dotnet build -c Release` of each from clean, twice. Prints the seconds and the size of the generated code.
#   bash tests/StaticGrad.Benchmarks/build/build-time.sh [work-folder]
set -euo pipefail
repo=$(cd "$(dirname "$0")/../../.." && pwd)
work=${1:-$(mktemp -d)}
mkdir -p "$work/packages"
dotnet pack "$repo/src/StaticGrad/StaticGrad.csproj" -c Release -o "$work/packages" >/dev/null
version=$(sed -n 's/.*<Version>\(.*\)<\/Version>.*/\1/p' "$repo/Directory.Build.props")

write_project() { # $1 folder, $2 "with" or "without"
  local dir=$1 mode=$2
  rm -rf "$dir" && mkdir -p "$dir"
  cat > "$dir/Consumer.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <EmitCompilerGeneratedFiles>true</EmitCompilerGeneratedFiles>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="StaticGrad" Version="$version" />
  </ItemGroup>
</Project>
XML
  cat > "$dir/nuget.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="staticgrad-build-time" value="$work/packages" />
  </packageSources>
</configuration>
XML
  python3 - "$dir/Classes.cs" "$mode" <<'PY'
import random, sys
path, mode = sys.argv[1], sys.argv[2]
random.seed(200)
lines = ["using StaticGrad;", "namespace Consumer;"]
for i in range(180):
    m, k, n = (random.randint(1, 64) for _ in range(3))
    attribute = ("MatMul<double>" if i % 2 else "MatMul") + f"({m}, {k}, {n})"
    lines.append((f"[{attribute}] " if mode == "with" else "") + f"public partial class Product{i};")
for i in range(20):
    a, b, c = (random.randint(2, 64) for _ in range(3))
    attribute = f"[Linear({a}, {b}), ReLU, Linear({b}, {c}), SoftmaxCrossEntropy] "
    lines.append((attribute if mode == "with" else "") + f"public partial class Network{i};")
lines.append("public static class Program { public static void Main() { } }")
open(path, "w").write("\n".join(lines) + "\n")
PY
}

for mode in without with; do
  write_project "$work/$mode" "$mode"
  dotnet restore "$work/$mode" --configfile "$work/$mode/nuget.config" >/dev/null
  for run in 1 2; do
    rm -rf "$work/$mode/bin" "$work/$mode/obj/Release"
    start=$(date +%s.%N)
    dotnet build "$work/$mode" -c Release --no-restore -nologo -v q >/dev/null
    end=$(date +%s.%N)
    echo "$mode attributes, build $run: $(echo "$end - $start" | bc) s"
  done
done
generated="$work/with/obj/Release/net10.0/generated"
echo "generated C#: $(du -sb "$generated" | cut -f1) bytes in $(find "$generated" -name '*.cs' | wc -l) files; DLL: $(stat -c %s "$work/with/bin/Release/net10.0/Consumer.dll") bytes (without: $(stat -c %s "$work/without/bin/Release/net10.0/Consumer.dll"))"
