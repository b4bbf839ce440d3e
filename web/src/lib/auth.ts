import { useQuery } from "@tanstack/react-query";
import { api, call, type Schemas } from "../api/client";

export type User = Schemas["UserRead"];

export const ME_KEY = ["me"] as const;

export function useMe() {
  return useQuery({
    queryKey: ME_KEY,
    queryFn: () => call(api.GET("/users/me")),
    retry: false,
    staleTime: 60_000,
  });
}

export const ROLE_LABELS: Record<User["role"], string> = {
  admin: "Admin",
  portfolio_manager: "Portfolio manager",
  analyst: "Analyst",
  viewer: "Viewer",
};

/** Whether a user may write (book trades, place orders) at all. */
export function canTrade(user: User | undefined): boolean {
  return !!user && user.role !== "viewer";
}
