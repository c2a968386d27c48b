// Tailwind v3. Scans our templates and crispy-tailwind's templates and Python files,
// which live in the virtualenv; the venv's Python says where.
const { execSync } = require("child_process");
const fs = require("fs");
const path = require("path");

function python() {
  if (process.env.PYTHON) return process.env.PYTHON;
  const venv = path.join(__dirname, ".venv", "bin", "python");
  return fs.existsSync(venv) ? venv : "python3";
}

function packageDir(pkg) {
  try {
    return execSync(`"${python()}" -c "import ${pkg}, os; print(os.path.dirname(${pkg}.__file__))"`, {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    }).trim();
  } catch (e) {
    throw new Error(`tailwind.config.js: cannot import ${pkg} with ${python()} (set PYTHON=...)`);
  }
}

module.exports = {
  content: [
    "./templates/**/*.html",
    "./*/templates/**/*.html",
    "./*/forms.py",
    "./static/js/**/*.js",
    `${packageDir("crispy_tailwind")}/**/*.{html,py}`,
  ],
  theme: { extend: {} },
  plugins: [],
};
