-- wrk script: send the paths of the file given after "--" in turn (bench/serve_demo.py writes them), each of
-- wrk's threads from its own place in the list.
--   wrk -t2 -c8 -d10s -s bench/cycle_paths.lua http://127.0.0.1:8100 -- /tmp/nexus-demo-paths/property.txt
local threads_set_up = 0

function setup(thread)
  thread:set("first", threads_set_up * 97)
  threads_set_up = threads_set_up + 1
end

local paths = {}
local next_index = 0

function init(args)
  for line in io.lines(args[1]) do
    if line ~= "" then
      paths[#paths + 1] = line
    end
  end
  next_index = (first or 0) % #paths
end

function request()
  next_index = next_index % #paths + 1
  return wrk.format("GET", paths[next_index])
end
