import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useOutletContext } from "react-router";
import { api, call, type Schemas } from "../api/client";
import { Pager } from "../components/Pager";
import { ErrorBox, QueryView } from "../components/Status";
import { ROLE_LABELS, type User } from "../lib/auth";
import { dateTime } from "../lib/format";
import { usePortfolios } from "../lib/portfolios";

type Role = Schemas["Role"];
const ROLES = Object.keys(ROLE_LABELS) as Role[];
const LIMIT = 25;

function useTeams() {
  return useQuery({
    queryKey: ["teams"],
    queryFn: () => call(api.GET("/admin/teams", { params: { query: { limit: 500 } } })),
  });
}

function Users() {
  const [pendingOnly, setPendingOnly] = useState(false);
  const [q, setQ] = useState("");
  const [offset, setOffset] = useState(0);
  const teams = useTeams();
  const queryClient = useQueryClient();
  const query = { limit: LIMIT, offset, ...(pendingOnly ? { approved: false } : {}), ...(q ? { q } : {}) };
  const users = useQuery({
    queryKey: ["admin-users", query],
    queryFn: () => call(api.GET("/admin/users", { params: { query } })),
    placeholderData: keepPreviousData,
  });
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ["admin-users"] });
  const approve = useMutation({
    mutationFn: (id: string) => call(api.POST("/admin/users/{user_id}/approve", { params: { path: { user_id: id } } })),
    onSuccess: refresh,
  });
  const update = useMutation({
    mutationFn: ({ id, body }: { id: string; body: Schemas["UserAdminUpdate"] }) => call(api.PATCH("/admin/users/{user_id}", { params: { path: { user_id: id } }, body })),
    onSuccess: refresh,
  });
  const teamName = new Map((teams.data?.items ?? []).map((t) => [t.id, t.name]));
  return (
    <section className="card" aria-labelledby="users-title">
      <div className="section-head">
        <h2 id="users-title">Users</h2>
        <span className="check">
          <input id="users-pending" type="checkbox" checked={pendingOnly} onChange={(e) => { setPendingOnly(e.target.checked); setOffset(0); }} />
          <label htmlFor="users-pending">Waiting for approval only</label>
        </span>
        <div className="field inline">
          <label htmlFor="users-q">Search</label>
          <input id="users-q" value={q} onChange={(e) => { setQ(e.target.value); setOffset(0); }} />
        </div>
      </div>
      <ErrorBox error={approve.error} />
      <ErrorBox error={update.error} />
      <QueryView query={users} isEmpty={(d) => d.items.length === 0} empty={pendingOnly ? "Nobody is waiting for approval." : "No users match."}>
        {(d) => (
          <>
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Email</th>
                    <th scope="col">Role</th>
                    <th scope="col">Team</th>
                    <th scope="col">Active</th>
                    <th scope="col">Approved</th>
                  </tr>
                </thead>
                <tbody>
                  {d.items.map((u) => (
                    <tr key={u.id}>
                      <td>
                        {u.full_name} <small className="muted">@{u.username}</small>
                      </td>
                      <td>{u.email}</td>
                      <td>
                        <label className="sr-only" htmlFor={`role-${u.id}`}>
                          Role of {u.email}
                        </label>
                        <select id={`role-${u.id}`} value={u.role} disabled={update.isPending} onChange={(e) => update.mutate({ id: u.id, body: { role: e.target.value as Role } })}>
                          {ROLES.map((r) => (
                            <option key={r} value={r}>
                              {ROLE_LABELS[r]}
                            </option>
                          ))}
                        </select>
                      </td>
                      <td>
                        <label className="sr-only" htmlFor={`team-${u.id}`}>
                          Team of {u.email}
                        </label>
                        <select id={`team-${u.id}`} value={u.team_id ?? ""} disabled={update.isPending} onChange={(e) => update.mutate({ id: u.id, body: { team_id: e.target.value || null } })}>
                          <option value="">No team</option>
                          {(teams.data?.items ?? []).map((t) => (
                            <option key={t.id} value={t.id}>
                              {t.name}
                            </option>
                          ))}
                          {u.team_id && !teamName.has(u.team_id) && <option value={u.team_id}>{u.team_id}</option>}
                        </select>
                      </td>
                      <td>
                        <input
                          type="checkbox"
                          aria-label={`${u.email} is active`}
                          checked={u.is_active}
                          disabled={update.isPending}
                          onChange={(e) => update.mutate({ id: u.id, body: { is_active: e.target.checked } })}
                        />
                      </td>
                      <td>
                        {u.approved_at ? (
                          dateTime(u.approved_at)
                        ) : (
                          <button type="button" className="small primary" onClick={() => approve.mutate(u.id)} disabled={approve.isPending}>
                            Approve {u.email}
                          </button>
                        )}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <Pager offset={offset} limit={LIMIT} total={d.total} onChange={setOffset} label="User pages" />
          </>
        )}
      </QueryView>
    </section>
  );
}

function Teams() {
  const teams = useTeams();
  const [name, setName] = useState("");
  const queryClient = useQueryClient();
  const create = useMutation({
    mutationFn: () => call(api.POST("/admin/teams", { body: { name: name.trim() } })),
    onSuccess: () => {
      setName("");
      void queryClient.invalidateQueries({ queryKey: ["teams"] });
    },
  });
  return (
    <section className="card" aria-labelledby="teams-title">
      <h2 id="teams-title">Teams</h2>
      <QueryView query={teams} isEmpty={(d) => d.items.length === 0} empty="No teams yet.">
        {(d) => (
          <ul className="plain-list">
            {d.items.map((t) => (
              <li key={t.id}>
                {t.name} <small className="muted">since {dateTime(t.created_at)}</small>
              </li>
            ))}
          </ul>
        )}
      </QueryView>
      <form
        className="inline-form"
        onSubmit={(e: FormEvent) => {
          e.preventDefault();
          if (name.trim()) create.mutate();
        }}
      >
        <label htmlFor="team-name">New team</label>
        <input id="team-name" value={name} onChange={(e) => setName(e.target.value)} />
        <button type="submit" disabled={!name.trim() || create.isPending}>
          Create team
        </button>
      </form>
      <ErrorBox error={create.error} />
    </section>
  );
}

function Members() {
  const portfolios = usePortfolios();
  const [slug, setSlug] = useState("");
  const [userId, setUserId] = useState("");
  const current = slug || portfolios.data?.items[0]?.slug || "";
  const queryClient = useQueryClient();
  const members = useQuery({
    queryKey: ["members", current],
    queryFn: () => call(api.GET("/portfolios/{slug}/members", { params: { path: { slug: current } } })),
    enabled: !!current,
  });
  const users = useQuery({
    queryKey: ["admin-users", "all"],
    queryFn: () => call(api.GET("/admin/users", { params: { query: { limit: 500 } } })),
  });
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ["members", current] });
  const add = useMutation({
    mutationFn: () => call(api.POST("/portfolios/{slug}/members", { params: { path: { slug: current } }, body: { user_id: userId } })),
    onSuccess: () => {
      setUserId("");
      refresh();
    },
  });
  const remove = useMutation({
    mutationFn: (id: string) => call(api.DELETE("/portfolios/{slug}/members/{user_id}", { params: { path: { slug: current, user_id: id } } })),
    onSuccess: refresh,
  });
  const memberIds = new Set((members.data ?? []).map((m) => m.user_id));
  return (
    <section className="card" aria-labelledby="members-title">
      <div className="section-head">
        <h2 id="members-title">Portfolio members</h2>
        <div className="field inline">
          <label htmlFor="members-portfolio">Portfolio</label>
          <select id="members-portfolio" value={current} onChange={(e) => setSlug(e.target.value)}>
            {(portfolios.data?.items ?? []).map((p) => (
              <option key={p.slug} value={p.slug}>
                {p.name}
              </option>
            ))}
          </select>
        </div>
      </div>
      <ErrorBox error={portfolios.error} />
      {current && (
        <QueryView query={members} isEmpty={(d) => d.length === 0} empty="No listed members (the PM and the team's users are members anyway).">
          {(d) => (
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Role</th>
                    <th scope="col">Added</th>
                    <th scope="col">Action</th>
                  </tr>
                </thead>
                <tbody>
                  {d.map((m) => (
                    <tr key={m.user_id}>
                      <td>
                        {m.full_name} <small className="muted">@{m.username}</small>
                      </td>
                      <td>{m.role}</td>
                      <td>{dateTime(m.added_at)}</td>
                      <td>
                        <button type="button" className="small" onClick={() => remove.mutate(m.user_id)} disabled={remove.isPending}>
                          Remove {m.username}
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </QueryView>
      )}
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (userId && current) add.mutate();
        }}
      >
        <label htmlFor="member-user">Add user</label>
        <select id="member-user" value={userId} onChange={(e) => setUserId(e.target.value)}>
          <option value="">Choose…</option>
          {(users.data?.items ?? [])
            .filter((u) => !memberIds.has(u.id))
            .map((u) => (
              <option key={u.id} value={u.id}>
                {u.full_name || u.username} ({u.email})
              </option>
            ))}
        </select>
        <button type="submit" disabled={!userId || add.isPending}>
          Add member
        </button>
      </form>
      <ErrorBox error={add.error} />
      <ErrorBox error={remove.error} />
    </section>
  );
}

function Audit() {
  const [action, setAction] = useState("");
  const [objectType, setObjectType] = useState("");
  const [offset, setOffset] = useState(0);
  const query = { limit: LIMIT, offset, ...(action ? { action } : {}), ...(objectType ? { object_type: objectType } : {}) };
  const audit = useQuery({
    queryKey: ["audit", query],
    queryFn: () => call(api.GET("/admin/audit", { params: { query } })),
    placeholderData: keepPreviousData,
  });
  return (
    <section className="card" aria-labelledby="audit-title">
      <div className="section-head">
        <h2 id="audit-title">Audit trail</h2>
        <div className="field inline">
          <label htmlFor="audit-action">Action</label>
          <input id="audit-action" value={action} onChange={(e) => { setAction(e.target.value); setOffset(0); }} placeholder="trades.book" />
        </div>
        <div className="field inline">
          <label htmlFor="audit-object">Object type</label>
          <input id="audit-object" value={objectType} onChange={(e) => { setObjectType(e.target.value); setOffset(0); }} placeholder="trade" />
        </div>
      </div>
      <QueryView query={audit} isEmpty={(d) => d.items.length === 0} empty="No audit events match.">
        {(d) => (
          <>
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">When</th>
                    <th scope="col">Action</th>
                    <th scope="col">Object</th>
                    <th scope="col">Actor</th>
                    <th scope="col">Change</th>
                  </tr>
                </thead>
                <tbody>
                  {d.items.map((e) => (
                    <tr key={e.id}>
                      <td>{dateTime(e.occurred_at)}</td>
                      <td>{e.action}</td>
                      <td>
                        {e.object_type} {e.object_id}
                      </td>
                      <td>
                        <code>{e.actor_id?.slice(0, 8) ?? "system"}</code>
                      </td>
                      <td>
                        <details>
                          <summary>before / after</summary>
                          <pre className="json">{JSON.stringify({ before: e.before, after: e.after }, null, 2)}</pre>
                        </details>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <Pager offset={offset} limit={LIMIT} total={d.total} onChange={setOffset} label="Audit pages" />
          </>
        )}
      </QueryView>
    </section>
  );
}

export default function Admin() {
  const user = useOutletContext<User>();
  if (user.role !== "admin") {
    return (
      <section>
        <h1>Admin</h1>
        <p className="error-box" role="alert">
          Only admins can manage users, teams and the audit trail.
        </p>
      </section>
    );
  }
  return (
    <div className="stack">
      <h1>Admin</h1>
      <Users />
      <div className="two-col">
        <Teams />
        <Members />
      </div>
      <Audit />
    </div>
  );
}
